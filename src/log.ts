import { createRequire } from 'node:module';
import type { default as createPino, Logger, LoggerOptions } from 'pino';

/**
 * The operator log. It always goes to stderr: in stdio mode stdout belongs to the protocol.
 * Secrets are redacted by key name wherever they appear in a logged object.
 *
 * pino (a dozen modules) loads with the first line written at an enabled level, so a server
 * answers its first requests without it, and a quiet one never loads it.
 */
const PINO_OPTIONS: LoggerOptions = {
  name: 'sml-mcp',
  redact: {
    paths: [
      '*.client_secret',
      '*.clientSecret',
      '*.api_key',
      '*.apiKey',
      '*.token',
      '*.access_token',
      '*.authorization',
      '*.Authorization',
      'headers["x-api-key"]',
    ],
    censor: '[redacted]',
  },
};

const LEVELS = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};
type LevelName = keyof typeof LEVELS;
type LogMethod = (objectOrMessage: unknown, message?: string) => void;

const isLevel = (name: string): name is LevelName => Object.hasOwn(LEVELS, name);

class OperatorLog {
  private levelName: LevelName = 'info';
  private pino?: Logger;
  /** A level that SML_LOG_LEVEL named but pino does not know: said once, with the first line. */
  private unknownLevel?: string;

  constructor(level: string) {
    this.level = level;
  }

  get level(): string {
    return this.levelName;
  }

  set level(name: string) {
    if (isLevel(name)) {
      this.levelName = name;
      this.unknownLevel = undefined;
    } else {
      this.unknownLevel = name;
    }
    if (this.pino) this.pino.level = this.levelName;
  }

  readonly debug: LogMethod = (...args) => this.write('debug', args);
  readonly info: LogMethod = (...args) => this.write('info', args);
  readonly warn: LogMethod = (...args) => this.write('warn', args);
  readonly error: LogMethod = (...args) => this.write('error', args);

  private write(level: 'debug' | 'info' | 'warn' | 'error', args: [unknown, string?]): void {
    if (LEVELS[level] < LEVELS[this.levelName]) return;
    this.pino ??= this.createPino();
    this.pino[level](...(args as [object, string]));
  }

  private createPino(): Logger {
    // pino is CommonJS: required synchronously, so logging stays a plain call.
    const pino = createRequire(import.meta.url)('pino') as typeof createPino;
    const logger = pino(
      { ...PINO_OPTIONS, level: this.levelName },
      pino.destination({ dest: 2, sync: true }),
    );
    if (this.unknownLevel !== undefined) {
      logger.warn(
        `SML_LOG_LEVEL '${this.unknownLevel}' is not a log level (expected one of ${Object.keys(LEVELS).join(', ')}); logging at ${this.levelName}`,
      );
    }
    return logger;
  }
}

export const logger = new OperatorLog(process.env.SML_LOG_LEVEL ?? 'info');
