import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { posix } from 'node:path';
import { HttpFailure, remoteFailure } from './http.js';

/**
 * The double's filesystem ops, on this machine's filesystem. Failures read like the remote
 * commands' stderr so the server's stderr → status mapping applies (404, 403, 400, 500).
 */

export interface FileSystemRoot {
  path: string;
  dataType: 'users' | 'store' | 'archive' | 'apps' | 'scratch' | 'project';
  defaultWorkDir: boolean;
}

export interface FileEntry {
  name: string;
  type: string;
  linkTarget: string | null;
  user: string;
  group: string;
  permissions: string;
  lastModified: string;
  size: string;
}

/** The path rules of every /filesystem endpoint: absolute, and under one of the system's roots. */
export function checkPath(path: string, roots: readonly FileSystemRoot[], system: string): string {
  if (!posix.isAbsolute(path)) {
    throw new HttpFailure(400, `The provided path (${path}) is not an absolute path.`);
  }
  const normalized = posix.normalize(path);
  const isInside = roots.some((root) => {
    const base = root.path.endsWith('/') ? root.path : `${root.path}/`;
    return normalized === root.path || normalized.startsWith(base) || root.path === '/';
  });
  if (!isInside) {
    throw new HttpFailure(
      400,
      `The provided path (${path}) does not match any of the defined filesystem paths for the requested system (${system}).`,
    );
  }
  return normalized;
}

/** Turn a Node fs error into the failure the matching coreutils command would have caused. */
function asRemote(command: string, path: string, error: unknown): HttpFailure {
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOENT'
      ? 'No such file or directory'
      : code === 'EACCES'
        ? 'Permission denied'
        : code === 'EPERM'
          ? 'Operation not permitted'
          : code === 'EEXIST'
            ? 'File exists'
            : code === 'EISDIR'
              ? 'Is a directory'
              : code === 'ENOTDIR'
                ? 'Not a directory'
                : ((error as Error).message ?? 'failed');
  return remoteFailure(1, `${command}: ${path}: ${reason}`);
}

const TYPE_CHARS: [number, string][] = [
  [constants.S_IFDIR, 'd'],
  [constants.S_IFLNK, 'l'],
  [constants.S_IFCHR, 'c'],
  [constants.S_IFBLK, 'b'],
  [constants.S_IFIFO, 'p'],
  [constants.S_IFSOCK, 's'],
];

function permissionString(mode: number): string {
  const bits = 'rwxrwxrwx';
  let out = '';
  for (let i = 0; i < 9; i++) out += mode & (1 << (8 - i)) ? bits[i] : '-';
  return out;
}

function localIso(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export class DoubleFiles {
  constructor(private readonly names: { user: (uid: number) => string; group: (gid: number) => string }) {}

  async entry(path: string, name: string): Promise<FileEntry> {
    const info = await lstat(path);
    const fileType = info.mode & constants.S_IFMT;
    const type = TYPE_CHARS.find(([bits]) => bits === fileType)?.[1] ?? '-';
    return {
      name,
      type,
      linkTarget: type === 'l' ? await readlink(path) : null,
      user: this.names.user(info.uid),
      group: this.names.group(info.gid),
      permissions: permissionString(info.mode),
      lastModified: localIso(info.mtime),
      size: String(info.size),
    };
  }

  async mkdir(path: string, parent: boolean): Promise<FileEntry> {
    try {
      await mkdir(path, { recursive: parent });
    } catch (error) {
      throw asRemote(`mkdir: cannot create directory '${path}'`, path, error);
    }
    return this.entry(path, path);
  }

  async upload(directory: string, filename: string, data: Buffer): Promise<void> {
    try {
      const info = await stat(directory);
      if (!info.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      await writeFile(posix.join(directory, filename), data);
    } catch (error) {
      throw asRemote('cat', directory, error);
    }
  }

  async download(path: string): Promise<Buffer> {
    try {
      return await readFile(path);
    } catch (error) {
      throw asRemote('base64', path, error);
    }
  }

  async statOf(path: string, dereference: boolean) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = dereference ? await stat(path) : await lstat(path);
    } catch (error) {
      throw asRemote(`stat: cannot statx '${path}'`, path, error);
    }
    return {
      mode: info.mode,
      ino: Number(info.ino),
      dev: Number(info.dev),
      nlink: info.nlink,
      uid: info.uid,
      gid: info.gid,
      size: info.size,
      atime: Math.floor(info.atimeMs / 1000),
      ctime: Math.floor(info.ctimeMs / 1000),
      mtime: Math.floor(info.mtimeMs / 1000),
    };
  }

  async list(path: string, options: { showHidden: boolean; recursive: boolean }): Promise<FileEntry[]> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      throw asRemote(`ls: cannot access '${path}'`, path, error);
    }
    if (!info.isDirectory()) return [await this.entry(path, path)];
    const out: FileEntry[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const names = (await readdir(dir)).sort();
      for (const name of names) {
        if (!options.showHidden && name.startsWith('.')) continue;
        const full = posix.join(dir, name);
        const entry = await this.entry(full, prefix ? `${prefix}/${name}` : name);
        out.push(entry);
        if (options.recursive && entry.type === 'd') await walk(full, entry.name);
      }
    };
    await walk(path, '');
    return out;
  }

  /** Bytes `[start, start+length)` of a file. */
  async readBytes(path: string, start: number, length: number): Promise<Buffer> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw asRemote('dd', path, error);
    }
    try {
      const info = await handle.stat();
      if (info.isDirectory()) throw remoteFailure(1, `dd: error reading '${path}': Is a directory`);
      const available = Math.max(0, Math.min(length, info.size - start));
      const buffer = Buffer.alloc(available);
      let done = 0;
      while (done < available) {
        const { bytesRead } = await handle.read(buffer, done, available - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buffer.subarray(0, done);
    } finally {
      await handle.close();
    }
  }

  async size(path: string): Promise<number> {
    try {
      const info = await stat(path);
      if (info.isDirectory()) throw remoteFailure(1, `tail: error reading '${path}': Is a directory`);
      return info.size;
    } catch (error) {
      if (error instanceof HttpFailure) throw error;
      throw asRemote(`tail: cannot open '${path}' for reading`, path, error);
    }
  }

  async remove(path: string): Promise<void> {
    try {
      await lstat(path);
      await rm(path, { recursive: true, force: true });
    } catch (error) {
      throw asRemote(`rm: cannot remove '${path}'`, path, error);
    }
  }

  async chmod(path: string, mode: string): Promise<FileEntry> {
    if (!/^[0-7]{3,4}$/.test(mode)) throw remoteFailure(1, `chmod: invalid mode: '${mode}'`);
    try {
      await chmod(path, Number.parseInt(mode, 8));
    } catch (error) {
      throw asRemote('chmod', path, error);
    }
    return this.entry(path, path);
  }

  async checksum(path: string): Promise<string> {
    return createHash('sha256')
      .update(await this.download(path))
      .digest('hex');
  }
}

/** Decode like Python's `bytes.decode('utf-8', 'replace')` and slice by code points. */
export function sliceCodePoints(text: string, start: number, length: number): string {
  const points = Array.from(text);
  return points.slice(start, start + length).join('');
}

/** `head`/`tail` on bytes or lines, as the API's FileContent model. */
export function headTail(
  data: Buffer,
  kind: 'head' | 'tail',
  options: { lines?: number; bytes?: number; skip: boolean },
): { content: Buffer; contentType: 'lines' | 'bytes'; startPosition: number; endPosition: number } {
  if (options.bytes !== undefined) {
    const n = options.bytes;
    if (kind === 'head') {
      const content = options.skip ? data.subarray(0, Math.max(0, data.length - n)) : data.subarray(0, n);
      return { content, contentType: 'bytes', startPosition: 0, endPosition: options.skip ? -n : n };
    }
    // tail -c +N starts at byte N counted from 1; tail -c N is the last N bytes.
    const content = options.skip
      ? data.subarray(Math.max(0, n - 1))
      : data.subarray(Math.max(0, data.length - n));
    return { content, contentType: 'bytes', startPosition: options.skip ? n : -n, endPosition: -1 };
  }
  const n = options.lines ?? 10;
  const text = data.toString('latin1');
  const parts = text.split(/(?<=\n)/);
  let chosen: string[];
  if (kind === 'head')
    chosen = options.skip ? parts.slice(0, Math.max(0, parts.length - n)) : parts.slice(0, n);
  else chosen = options.skip ? parts.slice(Math.max(0, n - 1)) : parts.slice(Math.max(0, parts.length - n));
  const content = Buffer.from(chosen.join(''), 'latin1');
  if (kind === 'head') {
    return { content, contentType: 'lines', startPosition: 0, endPosition: options.skip ? -n : n };
  }
  // Quirk kept from the server: without lines or bytes, tail reports startPosition 10 (positive).
  const startPosition = options.lines === undefined ? 10 : options.skip ? n : -n;
  return { content, contentType: 'lines', startPosition, endPosition: -1 };
}
