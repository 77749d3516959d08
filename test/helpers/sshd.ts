/**
 * A throwaway OpenSSH server on loopback for the SSH backend's tests: its own host key, its own
 * client key and authorized_keys in a temp dir, root login by key only. Nothing outside the temp
 * dir changes except /run/sshd (sshd's privilege-separation directory), which Debian expects.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';

const SSHD = '/usr/sbin/sshd';

export interface SshServer {
  host: string;
  port: number;
  user: string;
  /** Private key authorised for `user`. */
  identityFile: string;
  /** ssh `-o` options pinning the throwaway host key (no prompts, no trust-on-first-use). */
  options: string[];
  /** sshd's own log (it runs with -e), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** Install Debian's openssh-server when sshd is missing (the CI script installs it up front). */
async function ensureSshd(): Promise<void> {
  if (existsSync(SSHD)) return;
  await execa('apt-get', ['update', '-qq']);
  await execa(
    'apt-get',
    ['install', '-y', '-qq', '--no-install-recommends', 'openssh-server', 'openssh-client'],
    {
      env: { DEBIAN_FRONTEND: 'noninteractive' },
    },
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Start sshd on 127.0.0.1 with fresh keys; resolves once a key login runs a command. */
export async function startSshServer(): Promise<SshServer> {
  await ensureSshd();
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const directory = await mkdtemp(join(tmpdir(), 'sml-sshd-'));
  const hostKey = join(directory, 'host_ed25519');
  const clientKey = join(directory, 'client_ed25519');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sml-test-host', '-f', hostKey]);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sml-test-client', '-f', clientKey]);
  await writeFile(join(directory, 'authorized_keys'), await readFile(`${clientKey}.pub`));

  const port = await freePort();
  const config = join(directory, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(directory, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(directory, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no',
      'UsePAM no',
      'PrintMotd no',
      'MaxSessions 50',
      // Debian's bash sources ~/.bashrc for ssh commands when SHLVL < 2; this machine's runs pyenv init
      // (seconds under load). A login node's rc files are not what these tests measure.
      'SetEnv SHLVL=1',
      'MaxStartups 50:30:100',
      '',
    ].join('\n'),
  );
  await execa(SSHD, ['-t', '-f', config]);

  const hostPublicKey = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
  const knownHosts = join(directory, 'known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostPublicKey}\n`);

  let log = '';
  const daemon: ResultPromise = execa(SSHD, ['-D', '-e', '-f', config], { reject: false, stdin: 'ignore' });
  daemon.stderr?.on('data', (data: Buffer) => {
    log += data.toString();
  });

  const server: SshServer = {
    host: '127.0.0.1',
    port,
    user: 'root',
    identityFile: clientKey,
    options: [
      `UserKnownHostsFile=${knownHosts}`,
      'StrictHostKeyChecking=yes',
      'IdentitiesOnly=yes',
      'IdentityAgent=none',
    ],
    log: () => log,
    stop: async () => {
      daemon.kill('SIGTERM');
      await daemon;
      await rm(directory, { recursive: true, force: true });
    },
  };

  const sshArgs = ['-p', String(port), '-i', clientKey, '-l', 'root', '-o', 'BatchMode=yes'];
  for (const option of server.options) sshArgs.push('-o', option);
  for (let attempt = 0; ; attempt++) {
    const probe = await execa('ssh', [...sshArgs, '127.0.0.1', '--', 'true'], { reject: false });
    if (probe.exitCode === 0) return server;
    if (attempt >= 50 || daemon.exitCode !== null) {
      await server.stop();
      throw new Error(`sshd on 127.0.0.1:${port} does not accept the test key: ${probe.stderr}\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
