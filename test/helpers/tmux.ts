import { execFileSync } from 'node:child_process';

/** A detached tmux session running `command` in a pseudo-terminal: what a person sees and types. */
export function startTerminal(session: string, command: string) {
  execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '200', '-y', '50', command]);
  return {
    screen: (): string => execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' }),
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
