import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { SmlError } from '../../src/errors.js';

export interface AskOptions {
  /** Taken when the answer is empty; shown in parentheses. */
  defaultValue?: string;
  /** The only answers accepted; shown in brackets. */
  choices?: readonly string[];
  /** Typed without echo. */
  isSecret?: boolean;
  /** What is wrong with an answer (asked again), or undefined when it will do. */
  check?: (answer: string) => string | undefined;
}

/** Asks a person for a value (`sml-mcp init`, SML's `preconfigured` on a terminal). */
export interface Asker {
  ask(question: string, options?: AskOptions): Promise<string>;
  close(): void;
}

/** Whether a person is there to answer: stdin and stderr (where questions go) are a terminal. */
export function isTerminal(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

/** Questions on the terminal (stderr, so stdout stays the command's output), secrets without echo. */
export class TerminalAsker implements Asker {
  private isMuted = false;
  private readonly output = new Writable({
    write: (chunk, _encoding, done) => {
      if (!this.isMuted) process.stderr.write(chunk);
      done();
    },
  });
  private readonly lines = createInterface({ input: process.stdin, output: this.output, terminal: true });
  // Ctrl-C at a question stops the command there, before anything was launched or written.
  private readonly interrupted = new Promise<never>((_, reject) => {
    this.lines.once('SIGINT', () => {
      process.stderr.write('\n');
      reject(new SmlError('CANCELLED', 'Stopped at Ctrl-C: nothing was launched or written.'));
    });
  });

  constructor() {
    this.interrupted.catch(() => undefined);
  }

  private question(prompt: string): Promise<string> {
    return Promise.race([this.lines.question(prompt), this.interrupted]);
  }

  async ask(question: string, options: AskOptions = {}): Promise<string> {
    const choices = options.choices ? ` [${options.choices.join('/')}]` : '';
    const shown = options.defaultValue ? ` (${options.defaultValue})` : '';
    for (;;) {
      const prompt = `${question}${choices}${shown}: `;
      let answer: string;
      if (options.isSecret) {
        // The prompt is written here; readline's own output (the echo of the typed secret) is muted.
        process.stderr.write(prompt);
        this.isMuted = true;
        answer = (await this.question('')).trim();
        this.isMuted = false;
        process.stderr.write('\n');
      } else {
        answer = (await this.question(prompt)).trim();
      }
      const value = answer || options.defaultValue || '';
      const problem =
        options.choices && !options.choices.includes(value)
          ? `Choose one of: ${options.choices.join(', ')}`
          : options.check?.(value);
      if (problem === undefined) return value;
      process.stderr.write(`${problem}\n`);
    }
  }

  close(): void {
    this.lines.close();
  }
}
