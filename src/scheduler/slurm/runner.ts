import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SmlError } from '../../errors.js';
import { loadExeca } from '../../libraries.js';
import { logger } from '../../log.js';
import { quoteArgv } from '../../shell.js';
import type { CallOptions, FileChunk } from '../scheduler.js';

/**
 * How the SLURM backend reaches a cluster: run a command (argv, never a shell string) and move
 * bytes, either on this machine or on a login node over SSH. The backend above is the same for both.
 */
export interface ClusterRunner {
  readonly kind: 'local' | 'ssh';
  /** Where commands run, for messages: `this machine` or `ssh user@host:port`. */
  readonly target: string;
  /** Run a command; a non-zero exit is a result, not an error. Unreachable, timeout and abort throw. */
  run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
  /** Up to `maxBytes` bytes from `offset`, reading only that range. Missing file → SmlError NOT_FOUND. */
  readRange(path: string, offset: number, maxBytes: number, options?: CallOptions): Promise<FileChunk>;
  /** Size in bytes, or undefined when the path does not exist. */
  fileSize(path: string, options?: CallOptions): Promise<number | undefined>;
  /** Atomic write (temp file + rename in the same directory); creates the parent directory. */
  writeFile(path: string, content: string | Buffer, options?: CallOptions & { mode?: number }): Promise<void>;
  /** `mkdir -p` of every path. */
  mkdir(paths: readonly string[], options?: CallOptions): Promise<void>;
}

export interface RunOptions extends CallOptions {
  /** Bytes written to the command's stdin. */
  input?: string | Buffer;
  /** Overrides the runner's default timeout for this call. */
  timeoutMs?: number;
}

export interface CommandResult {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

/** One round trip to the cluster, reported to an observer (tests count calls and bytes with it). */
export interface TransferEvent {
  operation: 'command' | 'read' | 'size' | 'write' | 'mkdir';
  /** The program run (`squeue`, `sbatch`, …) for commands; the operation name otherwise. */
  program: string;
  /** Bytes that came back from the cluster (stdout, or the bytes read locally). */
  bytesReceived: number;
  /** Bytes sent to the cluster (stdin, or the bytes written locally). */
  bytesSent: number;
}

export interface RunnerOptions {
  /** Default per-call timeout in milliseconds (60 s). */
  timeoutMs?: number;
  /** Extra environment for every command (locally merged into process.env; over SSH an `env K=V` prefix). */
  env?: Record<string, string>;
  /** Called after every round trip to the cluster. */
  onTransfer?: (event: TransferEvent) => void;
}

export interface SshTarget {
  host: string;
  user?: string;
  port?: number;
  identityFile?: string;
  /** Extra `-o key=value` options; they come first, so they win over sml-mcp's defaults. */
  options?: readonly string[];
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** Forces ISO 8601 times (`2024-05-01T10:00:00`) from squeue, sacct and scontrol. */
const SLURM_ENV = { SLURM_TIME_FORMAT: 'standard' } as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkEnv(env: Record<string, string>): void {
  for (const name of Object.keys(env)) {
    if (!ENV_NAME.test(name)) {
      throw new SmlError('INVALID_ARGUMENT', `Environment variable name "${name}" is not valid.`, {
        hint: 'Use letters, digits and underscores, not starting with a digit.',
      });
    }
  }
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SmlError('CANCELLED', 'The request was cancelled before it finished.');
}

function toBuffer(data: Uint8Array | string | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** The last lines of a command's stderr, enough to explain a failure without flooding a message. */
export function stderrSummary(stderr: string, maxLength = 2000): string {
  const text = stderr.trim();
  return text.length <= maxLength ? text : `…${text.slice(text.length - maxLength)}`;
}

interface SpawnRequest {
  file: string;
  args: readonly string[];
  env?: Record<string, string>;
  input?: string | Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Shown in errors: the logical command, never the content sent on stdin. */
  label: string;
  target: string;
}

/** Spawn one process (argv, no shell) with a timeout and an abort signal; exit code returned, not thrown. */
async function spawnCommand(request: SpawnRequest): Promise<CommandResult> {
  checkAborted(request.signal);
  const { execa } = await loadExeca();
  const result = await execa(request.file, request.args, {
    env: request.env,
    extendEnv: true,
    input: request.input,
    stdin: request.input === undefined ? 'ignore' : 'pipe',
    timeout: request.timeoutMs,
    cancelSignal: request.signal,
    encoding: 'buffer',
    stripFinalNewline: false,
    maxBuffer: 256 * 1024 * 1024,
    reject: false,
  });
  if (result.isCanceled) {
    throw new SmlError('CANCELLED', `Cancelled while running ${request.label} on ${request.target}.`);
  }
  if (result.timedOut) {
    throw new SmlError(
      'TIMEOUT',
      `${request.label} on ${request.target} did not finish within ${Math.round(request.timeoutMs / 1000)} s.`,
      { hint: 'The cluster may be overloaded or unreachable; try again, or raise the timeout.' },
    );
  }
  if (result.isMaxBuffer) {
    throw new SmlError('SCHEDULER_ERROR', `${request.label} on ${request.target} printed too much output.`);
  }
  const stderr = toBuffer(result.stderr as Uint8Array | undefined).toString('utf8');
  if (result.exitCode === undefined) {
    const code = (result as { code?: string }).code;
    if (code === 'ENOENT') {
      throw new SmlError(
        'SCHEDULER_UNREACHABLE',
        `Command "${request.file}" was not found on ${request.target}.`,
        {
          hint: `Install it or put it on PATH (the SLURM client commands must be available).`,
          details: { command: request.file },
        },
      );
    }
    throw new SmlError(
      'SCHEDULER_ERROR',
      `${request.label} on ${request.target} did not run: ${result.signal ?? code ?? 'unknown failure'}.`,
      { details: { stderr: stderrSummary(stderr) } },
    );
  }
  return { exitCode: result.exitCode, stdout: toBuffer(result.stdout as Uint8Array | undefined), stderr };
}

function fsError(error: unknown, action: string, path: string, target: string): SmlError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return new SmlError('NOT_FOUND', `Cannot ${action} ${path} on ${target}: no such file or directory.`, {
      hint: 'Check the path; job log files appear only once the job has started.',
      details: { path },
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new SmlError('PERMISSION_DENIED', `Cannot ${action} ${path} on ${target}: permission denied.`, {
      details: { path },
    });
  }
  if (code === 'EISDIR' || code === 'ENOTDIR') {
    return new SmlError('INVALID_ARGUMENT', `Cannot ${action} ${path} on ${target}: not a regular file.`, {
      details: { path },
    });
  }
  return new SmlError('SCHEDULER_ERROR', `Cannot ${action} ${path} on ${target}: ${String(error)}.`, {
    details: { path },
    cause: error,
  });
}

/** The SLURM CLI on this machine; files through node:fs. */
export class LocalRunner implements ClusterRunner {
  readonly kind = 'local' as const;
  readonly target = 'this machine';
  private readonly timeoutMs: number;
  private readonly env: Record<string, string>;
  private readonly onTransfer?: (event: TransferEvent) => void;

  constructor(options: RunnerOptions = {}) {
    checkEnv(options.env ?? {});
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.env = { ...options.env, ...SLURM_ENV };
    this.onTransfer = options.onTransfer;
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const [file, ...args] = argv;
    if (!file) throw new SmlError('INTERNAL', 'Empty command.');
    logger.debug({ target: this.target, argv }, 'cluster command');
    const result = await spawnCommand({
      file,
      args,
      env: this.env,
      input: options.input,
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      signal: options.signal,
      label: file,
      target: this.target,
    });
    this.onTransfer?.({
      operation: 'command',
      program: file,
      bytesReceived: result.stdout.length,
      bytesSent: options.input === undefined ? 0 : Buffer.byteLength(options.input),
    });
    return result;
  }

  async readRange(
    path: string,
    offset: number,
    maxBytes: number,
    options: CallOptions = {},
  ): Promise<FileChunk> {
    checkAborted(options.signal);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw fsError(error, 'read', path, this.target);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw fsError({ code: 'EISDIR' }, 'read', path, this.target);
      const length = Math.max(0, Math.min(maxBytes, info.size - offset));
      const data = Buffer.alloc(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(data, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      this.onTransfer?.({ operation: 'read', program: 'read', bytesReceived: filled, bytesSent: 0 });
      return { data: data.subarray(0, filled), size: Math.max(info.size, offset + filled) };
    } catch (error) {
      throw error instanceof SmlError ? error : fsError(error, 'read', path, this.target);
    } finally {
      await handle.close();
    }
  }

  async fileSize(path: string, options: CallOptions = {}): Promise<number | undefined> {
    checkAborted(options.signal);
    try {
      const info = await stat(path);
      this.onTransfer?.({ operation: 'size', program: 'stat', bytesReceived: 0, bytesSent: 0 });
      return info.size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fsError(error, 'stat', path, this.target);
    }
  }

  async writeFile(
    path: string,
    content: string | Buffer,
    options: CallOptions & { mode?: number } = {},
  ): Promise<void> {
    checkAborted(options.signal);
    const mode = options.mode ?? 0o644;
    const temporary = join(dirname(path), `.${basename(path)}.sml-tmp-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(dirname(path), { recursive: true });
      const handle = await open(temporary, 'wx', mode);
      try {
        await handle.writeFile(content);
        // The umask may have narrowed the mode given to open(); chmod sets it exactly.
        await handle.chmod(mode);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, path);
      this.onTransfer?.({
        operation: 'write',
        program: 'write',
        bytesReceived: 0,
        bytesSent: Buffer.byteLength(content),
      });
    } catch (error) {
      await rm(temporary, { force: true });
      throw fsError(error, 'write', path, this.target);
    }
  }

  async mkdir(paths: readonly string[], options: CallOptions = {}): Promise<void> {
    checkAborted(options.signal);
    for (const path of paths) {
      try {
        await mkdir(path, { recursive: true });
      } catch (error) {
        throw fsError(error, 'create directory', path, this.target);
      }
    }
    this.onTransfer?.({ operation: 'mkdir', program: 'mkdir', bytesReceived: 0, bytesSent: 0 });
  }
}

// Remote helpers run by the remote `sh`; paths arrive as positional parameters, never spliced in.
/** $1 path, $2 offset, $3 max bytes → line with the size, then the bytes (exit 3 missing, 4 not a file). */
const READ_RANGE_SCRIPT =
  '[ -e "$1" ] || exit 3; [ -f "$1" ] || exit 4; s=$(stat -L -c %s -- "$1") || exit 5; ' +
  'printf "\\n%s%s\\n" "$4" "$s"; if [ "$2" -lt "$s" ]; then tail -c +"$(($2 + 1))" -- "$1" | head -c "$3"; fi';
/** $1 path → its size after the marker $2 (exit 3 missing). */
const FILE_SIZE_SCRIPT =
  '[ -e "$1" ] || exit 3; s=$(stat -L -c %s -- "$1") || exit 5; printf "\\n%s%s\\n" "$2" "$s"';
/** Precedes the size line, so anything a login script prints first is skipped, not taken for file bytes. */
const SIZE_MARKER = 'sml-mcp-size:';

/** Find `\n<marker><size>\n` in a remote answer: the size and where the bytes after it start. */
function afterSizeMarker(stdout: Buffer): { size: number; dataStart: number } | undefined {
  const marker = Buffer.from(`\n${SIZE_MARKER}`);
  const at = stdout.indexOf(marker);
  if (at < 0) return undefined;
  const sizeStart = at + marker.length;
  const newline = stdout.indexOf(0x0a, sizeStart);
  if (newline < 0) return undefined;
  const size = Number(stdout.subarray(sizeStart, newline).toString('ascii'));
  return Number.isSafeInteger(size) && size >= 0 ? { size, dataStart: newline + 1 } : undefined;
}
/** $1 path, $2 octal mode; content on stdin, written to a temp file in the same directory, then renamed. */
const WRITE_FILE_SCRIPT =
  'set -e; t="$1.sml-tmp.$$"; trap \'rm -f -- "$t"\' EXIT; mkdir -p -- "$(dirname -- "$1")"; ' +
  'umask 077; cat > "$t"; chmod "$2" "$t"; mv -f -- "$t" "$1"';

/**
 * The SLURM CLI on a login node over SSH. sshd hands the command line to the user's login shell,
 * so every remote command is one string built by `quoteArgv` (a POSIX shell is assumed: bash, sh, zsh).
 * SLURM's environment reaches the remote command as an `env K=V … command` prefix.
 */
export class SshRunner implements ClusterRunner {
  readonly kind = 'ssh' as const;
  readonly target: string;
  private readonly sshArgs: string[];
  private readonly timeoutMs: number;
  private readonly envPrefix: string[];
  private readonly onTransfer?: (event: TransferEvent) => void;

  constructor(ssh: SshTarget, options: RunnerOptions = {}) {
    if (!ssh.host || ssh.host.startsWith('-') || /\s/.test(ssh.host)) {
      throw new SmlError('INVALID_ARGUMENT', `SSH host "${ssh.host}" is not a valid host name or alias.`, {
        hint: 'Give a host name, an address or an alias from ~/.ssh/config.',
      });
    }
    checkEnv(options.env ?? {});
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.onTransfer = options.onTransfer;
    const env = { ...options.env, ...SLURM_ENV };
    this.envPrefix = ['env', ...Object.entries(env).map(([name, value]) => `${name}=${value}`)];
    const args: string[] = [];
    if (ssh.port !== undefined) args.push('-p', String(ssh.port));
    if (ssh.identityFile) args.push('-i', ssh.identityFile);
    if (ssh.user) args.push('-l', ssh.user);
    for (const option of ssh.options ?? []) args.push('-o', option);
    args.push(
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=15',
      '-o',
      'ServerAliveInterval=15',
      '-o',
      'ServerAliveCountMax=3',
      '-o',
      'LogLevel=ERROR',
      '-T',
    );
    args.push(ssh.host, '--');
    this.sshArgs = args;
    const user = ssh.user ? `${ssh.user}@` : '';
    const port = ssh.port !== undefined ? `:${ssh.port}` : '';
    this.target = `ssh ${user}${ssh.host}${port}`;
  }

  /** The remote command line: `env SLURM_TIME_FORMAT=standard … argv`, every word quoted. */
  remoteCommand(argv: readonly string[]): string {
    return quoteArgv([...this.envPrefix, ...argv]);
  }

  private async exec(
    operation: TransferEvent['operation'],
    argv: readonly string[],
    options: RunOptions,
  ): Promise<CommandResult> {
    const program = argv[0];
    if (!program) throw new SmlError('INTERNAL', 'Empty command.');
    logger.debug({ target: this.target, argv }, 'cluster command');
    const label = operation === 'command' ? program : `${operation} (${argv.at(-1) ?? ''})`;
    const result = await spawnCommand({
      file: 'ssh',
      args: [...this.sshArgs, this.remoteCommand(argv)],
      input: options.input,
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      signal: options.signal,
      label,
      target: this.target,
    });
    this.onTransfer?.({
      operation,
      program: operation === 'command' ? program : operation,
      bytesReceived: result.stdout.length,
      bytesSent: options.input === undefined ? 0 : Buffer.byteLength(options.input),
    });
    // ssh itself exits 255 when it cannot connect or authenticate.
    if (result.exitCode === 255) {
      throw new SmlError(
        'SCHEDULER_UNREACHABLE',
        `Cannot reach ${this.target}: ${stderrSummary(result.stderr, 500)}`,
        {
          hint: 'Check that `ssh` to this host works without a prompt (key or agent; BatchMode is on) and the host, port and identity file of the system profile.',
        },
      );
    }
    return result;
  }

  run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    return this.exec('command', argv, options);
  }

  async readRange(
    path: string,
    offset: number,
    maxBytes: number,
    options: CallOptions = {},
  ): Promise<FileChunk> {
    const argv = ['sh', '-c', READ_RANGE_SCRIPT, 'sh', path, String(offset), String(maxBytes), SIZE_MARKER];
    const result = await this.exec('read', argv, options);
    this.checkFileResult(result, 'read', path);
    const answer = afterSizeMarker(result.stdout);
    if (!answer) throw this.unexpectedAnswer('reading', path);
    const data = result.stdout.subarray(answer.dataStart);
    return { data, size: Math.max(answer.size, offset + data.length) };
  }

  async fileSize(path: string, options: CallOptions = {}): Promise<number | undefined> {
    const argv = ['sh', '-c', FILE_SIZE_SCRIPT, 'sh', path, SIZE_MARKER];
    const result = await this.exec('size', argv, options);
    if (result.exitCode === 3) return undefined;
    this.checkFileResult(result, 'stat', path);
    const answer = afterSizeMarker(result.stdout);
    if (!answer) throw this.unexpectedAnswer('measuring', path);
    return answer.size;
  }

  private unexpectedAnswer(action: string, path: string): SmlError {
    return new SmlError('SCHEDULER_ERROR', `Unexpected answer when ${action} ${path} on ${this.target}.`, {
      hint: 'The login node needs a POSIX sh and GNU coreutils (stat -c, tail -c, head -c).',
    });
  }

  async writeFile(
    path: string,
    content: string | Buffer,
    options: CallOptions & { mode?: number } = {},
  ): Promise<void> {
    const mode = (options.mode ?? 0o644).toString(8);
    const argv = ['sh', '-c', WRITE_FILE_SCRIPT, 'sh', path, mode];
    const result = await this.exec('write', argv, { ...options, input: content });
    this.checkFileResult(result, 'write', path);
  }

  async mkdir(paths: readonly string[], options: CallOptions = {}): Promise<void> {
    if (paths.length === 0) return;
    const result = await this.exec('mkdir', ['mkdir', '-p', '--', ...paths], options);
    this.checkFileResult(result, 'create directory', paths.join(' '));
  }

  private checkFileResult(result: CommandResult, action: string, path: string): void {
    if (result.exitCode === 0) return;
    if (result.exitCode === 3 || /No such file or directory/.test(result.stderr)) {
      throw fsError({ code: 'ENOENT' }, action, path, this.target);
    }
    if (result.exitCode === 4) throw fsError({ code: 'EISDIR' }, action, path, this.target);
    if (/Permission denied/i.test(result.stderr))
      throw fsError({ code: 'EACCES' }, action, path, this.target);
    throw new SmlError(
      'SCHEDULER_ERROR',
      `Cannot ${action} ${path} on ${this.target} (exit ${result.exitCode}): ${stderrSummary(result.stderr, 500)}`,
      { details: { path } },
    );
  }
}
