import { Transform, type TransformCallback } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ErrorCode, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { logger } from '../src/log.js';
import type { ServerDeps } from '../src/services.js';
import { createMcpServer } from './server.js';

// When stdin ends, requests already read still get their answers, for this long at most.
const DRAIN_GRACE_MS = 10_000;
/** Longest JSON-RPC line read from stdin (the SDK's own limit); a longer one is skipped and answered. */
export const MAX_STDIO_LINE_BYTES = 10 * 1024 * 1024;

/**
 * Serve one client over stdin/stdout. stdout carries nothing but JSON-RPC (the logger writes to
 * stderr); the process ends when stdin ends or closes (the SDK does not), or on SIGTERM/SIGINT.
 */
export async function runStdioServer(deps: ServerDeps): Promise<void> {
  const mcp = createMcpServer(deps);
  // The SDK ends the whole transport when one line overflows its buffer; lines are checked first.
  // JSON-RPC answers a line it cannot take with an error (id null when the id cannot be read).
  const answerError = (id: string | number | null, code: number, message: string) =>
    void transport.send({ jsonrpc: '2.0', id, error: { code, message } } as unknown as JSONRPCMessage);
  const input = process.stdin.pipe(
    new LineLimiter(MAX_STDIO_LINE_BYTES, (id, bytes) => {
      logger.error(
        { bytes, id },
        `skipped a JSON-RPC line of ${bytes} bytes from stdin (limit ${MAX_STDIO_LINE_BYTES})`,
      );
      answerError(
        id,
        ErrorCode.InvalidRequest,
        `Request too large: a message of ${bytes} bytes exceeds the ${MAX_STDIO_LINE_BYTES}-byte limit of this server and was skipped; send smaller arguments.`,
      );
    }),
  );
  const transport = new StdioServerTransport(input, process.stdout, {
    maxBufferSize: MAX_STDIO_LINE_BYTES + 1024 * 1024,
  });
  const pending = new Set<string | number>();
  let isShuttingDown = false;

  const exit = () => {
    void mcp.close().finally(() => process.exit(0));
    // A stuck close must not keep an orphaned server alive.
    setTimeout(() => process.exit(0), 2000).unref();
  };
  const shutdown = (reason: string, shouldDrain: boolean) => {
    if (isShuttingDown) return;
    isShuttingDown = true;
    logger.info({ reason, pending: pending.size }, 'sml-mcp stdio server stopping');
    if (!shouldDrain || pending.size === 0) return exit();
    setTimeout(exit, DRAIN_GRACE_MS).unref();
  };

  await mcp.connect(transport);
  // The SDK drops a line that is not JSON or not a JSON-RPC message, telling only onerror.
  const previousOnError = transport.onerror;
  transport.onerror = (error: Error) => {
    previousOnError?.(error);
    if (error instanceof SyntaxError) {
      logger.warn('stdin line is not JSON');
      answerError(null, ErrorCode.ParseError, 'Parse error: the line is not JSON.');
    } else if (error.name === 'ZodError') {
      logger.warn('stdin line is not a JSON-RPC message');
      answerError(null, ErrorCode.InvalidRequest, 'Invalid Request: the line is not a JSON-RPC 2.0 message.');
    }
  };
  trackPendingRequests(transport, pending, () => {
    if (isShuttingDown && pending.size === 0) exit();
  });
  // After connect(): that is what puts stdin into flowing mode.
  process.stdin.once('end', () => shutdown('stdin ended', true));
  process.stdin.once('close', () => shutdown('stdin closed', true));
  process.once('SIGTERM', () => shutdown('SIGTERM', false));
  process.once('SIGINT', () => shutdown('SIGINT', false));
  logger.info('sml-mcp serving MCP over stdio');
}

/** Count requests read until their response is written, so a closing stdin can drain them. */
function trackPendingRequests(
  transport: StdioServerTransport,
  pending: Set<string | number>,
  onSettled: () => void,
): void {
  const receive = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage) => {
    if ('method' in message && 'id' in message) pending.add(message.id);
    receive?.(message);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message: JSONRPCMessage) => {
    await send(message);
    if (
      ('result' in message || 'error' in message) &&
      message.id !== undefined &&
      pending.delete(message.id)
    ) {
      onSettled();
    }
  };
}

/**
 * Passes stdin on in whole lines of at most `maxLineBytes`; a longer line is dropped (never held
 * whole in memory) and reported with the request id when its first or last bytes show one.
 */
export class LineLimiter extends Transform {
  private pieces: Buffer[] = [];
  private lineBytes = 0;
  private isSkipping = false;
  private head = '';
  private tail = Buffer.alloc(0);

  constructor(
    private readonly maxLineBytes: number,
    private readonly onOversized: (id: string | number | null, bytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(10, start);
      const end = newline === -1 ? chunk.length : newline + 1;
      this.addPiece(chunk.subarray(start, end), newline !== -1);
      start = end;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.isSkipping) this.endSkippedLine();
    else if (this.lineBytes > 0) this.push(Buffer.concat(this.pieces));
    done();
  }

  private addPiece(piece: Buffer, endsLine: boolean): void {
    this.lineBytes += piece.length;
    if (!this.isSkipping && this.lineBytes > this.maxLineBytes + 1) {
      this.isSkipping = true;
      this.head = Buffer.concat(this.pieces).toString('utf8', 0, 256);
      this.pieces = [];
    }
    if (this.isSkipping) {
      this.tail = Buffer.concat([this.tail, piece]).subarray(-256);
      if (endsLine) this.endSkippedLine();
      return;
    }
    this.pieces.push(piece);
    if (endsLine) {
      this.push(Buffer.concat(this.pieces));
      this.pieces = [];
      this.lineBytes = 0;
    }
  }

  private endSkippedLine(): void {
    this.onOversized(requestIdOf(this.head, this.tail.toString('utf8')), this.lineBytes);
    this.isSkipping = false;
    this.lineBytes = 0;
    this.head = '';
    this.tail = Buffer.alloc(0);
  }
}

/** The id of a JSON-RPC request whose body is too large to parse, from its first or last top-level key. */
function requestIdOf(head: string, tail: string): string | number | null {
  const id = String.raw`"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")`;
  const match =
    new RegExp(String.raw`^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?${id}`).exec(head) ??
    new RegExp(String.raw`,\s*${id}\s*\}\s*$`).exec(tail);
  if (!match) return null;
  try {
    return JSON.parse(match[1]!) as string | number;
  } catch {
    return null;
  }
}
