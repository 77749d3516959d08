import { execFileSync } from 'node:child_process';
import { waitFor } from './cluster.js';

/** A detached tmux session running `command` in a pseudo-terminal: what a person sees and types. */
export function startTerminal(session: string, command: string) {
  execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '200', '-y', '50', command]);
  const screen = (): string =>
    execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
  return {
    screen,
    /** The first match of `pattern` on the screen, once it shows; a timeout names the last screen. */
    waitForScreen: (pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> =>
      waitFor(
        () => {
          const shown = screen();
          const match = pattern.exec(shown);
          if (!match) throw new Error(`the screen shows:\n${shown}`);
          return match;
        },
        { timeoutMs, intervalMs: 200, what: `the screen to show ${pattern}` },
      ),
    /** Type `text` literally, then Enter. */
    type: (text: string): void => {
      if (text) execFileSync('tmux', ['send-keys', '-t', session, '-l', text]);
      execFileSync('tmux', ['send-keys', '-t', session, 'Enter']);
    },
    /** Ctrl-C. */
    interrupt: (): void => {
      execFileSync('tmux', ['send-keys', '-t', session, 'C-c']);
    },
    close: (): void => {
      execFileSync('tmux', ['kill-session', '-t', session], { stdio: 'ignore' });
    },
  };
}
