/**
 * A throwaway Dovecot IMAP server for tests: its own config, mail and state under a temp folder,
 * plain-text login on a loopback port, started in the foreground and stopped by its own pid.
 * Dovecot comes from Debian's dovecot-imapd (.ci/run installs it when missing).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './mail-support.ts';

export const DOVECOT_BIN = ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'].find((p) => fs.existsSync(p));

export interface Dovecot {
  port: number;
  user: string;
  pass: string;
  url: string;
  stop: () => Promise<void>;
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`dovecot did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startDovecot(): Promise<Dovecot> {
  if (!DOVECOT_BIN) throw new Error('dovecot is not installed (apt-get install -y dovecot-imapd)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-dovecot-'));
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const user = 'helpdesk';
  const pass = 'imap-test-pass';
  for (const d of ['run', 'state', 'mail']) fs.mkdirSync(path.join(dir, d), { mode: 0o755 });
  const nobody = { uid: 65534, gid: 65534 };
  fs.chownSync(path.join(dir, 'mail'), nobody.uid, nobody.gid);
  fs.writeFileSync(path.join(dir, 'users'), `${user}:{PLAIN}${pass}:${nobody.uid}:${nobody.gid}::${dir}/mail/${user}\n`);
  fs.writeFileSync(
    path.join(dir, 'dovecot.conf'),
    `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${dir}/mail/%u
first_valid_uid = ${nobody.uid}
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/users
}
userdb {
  driver = passwd-file
  args = ${dir}/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
`,
  );
  const child: ChildProcess = spawn(DOVECOT_BIN, ['-F', '-c', path.join(dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  try {
    await Promise.race([
      waitForPort(port, 15_000),
      new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`dovecot exited (${code}): ${stderr}`)))),
    ]);
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
  return {
    port, user, pass, url: `imap://${user}:${pass}@127.0.0.1:${port}/INBOX`,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
