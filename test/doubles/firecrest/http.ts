/**
 * HTTP plumbing of the FirecREST double: replies as values (so a fault can drop the connection
 * after the action ran), the server's error body, and a small multipart reader.
 */

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(value), 'utf8'),
  };
}

/** 204: empty body, yet FastAPI still sends a JSON content type. */
export function emptyReply(status = 204): Reply {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.alloc(0) };
}

export interface ValidationField {
  location: 'body' | 'query' | 'path';
  name: string | null;
  message: string;
}

/** An error answer in FirecREST's shape; thrown by handlers, turned into a Reply by the server. */
export class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: {
      errorType?: 'error' | 'validation';
      causedBy?: string[] | null;
      data?: unknown;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message);
  }

  toReply(user: string | null): Reply {
    const headers = { ...this.extra.headers };
    if (user) headers['f7t-authusername'] = user;
    return jsonReply(
      this.status,
      {
        errorType: this.extra.errorType ?? 'error',
        message: this.message,
        causedBy: this.extra.causedBy ?? null,
        data: this.extra.data ?? null,
        user,
      },
      headers,
    );
  }
}

/** A 400 validation failure as FastAPI+FirecREST report it (lower-cased pydantic text, `data.fields`). */
export function validationFailure(fields: ValidationField[]): HttpFailure {
  const summary = fields.map((f) => `${f.location}.${f.name ?? ''}: ${f.message}`).join('; ');
  return new HttpFailure(400, `request validation error: ${summary}`.toLowerCase(), {
    errorType: 'validation',
    data: { fields },
  });
}

/** Remote command failure, mapped from its stderr like the server does. */
export function remoteFailure(exitStatus: number, stderr: string): HttpFailure {
  const trimmed = stderr.trim();
  const message = `Remote process failed with exit status:${exitStatus}${trimmed ? ` and error message:${trimmed}` : ''}`;
  let status = 500;
  if (exitStatus === 124) status = 408;
  else if (trimmed.includes('No such file or directory')) status = 404;
  else if (trimmed.includes('Permission denied') || trimmed.includes('Operation not permitted')) status = 403;
  else if (trimmed.includes('File exists') || trimmed.includes('invalid user')) status = 400;
  return new HttpFailure(status, message);
}

export interface MultipartPart {
  name: string;
  filename?: string;
  data: Buffer;
}

/** Parse a multipart/form-data body (enough for the upload op). */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) return [];
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let position = body.indexOf(delimiter);
  while (position >= 0) {
    const start = position + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    // Each part: CRLF, headers, CRLF CRLF, data, CRLF before the next delimiter.
    const part = body.subarray(start + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
      const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
      const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
      if (name !== undefined) parts.push({ name, filename, data: part.subarray(headerEnd + 4) });
    }
    position = next;
  }
  return parts;
}

/** FastAPI-style boolean query parsing: true/false, 1/0, yes/no, on/off; anything else is a 400. */
export function queryBoolean(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const value = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw validationFailure([{ location: 'query', name, message: 'Input should be a valid boolean' }]);
}

/** An integer query parameter, or `fallback` when absent; a non-integer is a 400. */
export function queryInteger(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) {
    throw validationFailure([{ location: 'query', name, message: 'Input should be a valid integer' }]);
  }
  return Number(raw);
}
