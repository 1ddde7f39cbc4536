/**
 * SSH password and keyboard-interactive authentication end to end: the installed
 * `ts-vpn up` runs on a pseudo-terminal (util-linux `script`), the test types the password
 * when the prompt shows, and real sshds in the server namespace check it:
 *
 * - sshd P (198.18.0.2:2223): PasswordAuthentication only (UsePAM no: /etc/shadow);
 * - sshd K (198.18.0.2:2224): KbdInteractiveAuthentication through PAM (its one
 *   `Password: ` prompt; a two-prompt exchange is tested against a scripted ssh2 server
 *   in test/transport/ssh-password.test.ts: making PAM ask twice would mean writing a PAM
 *   service under /etc/pam.d);
 * - a gateway sshd in the LAN namespace (keys only), reached through sshd P as a jump host
 *   that wants the password.
 *
 * The login is a throwaway account with uid 0 (so the remote `ts-vpn serve` can create
 * its TUN device), its password set with chpasswd (on stdin) and the account removed
 * after. Each sshd is its own, with its own config; /etc/ssh is not touched.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAN_ADDR, SERVER_ADDR, SERVER_PPP_ADDR, type UpProcess } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { childPids, type Sshd, startSshd } from '../support/sshd.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('e2e tests');
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Every file under `dir`, as text (state dirs are small). */
function allText(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out += allText(p);
    else if (st.isFile()) out += readFileSync(p, 'latin1');
  }
  return out;
}

describe.skipIf(!enabled || !hasScript)(
  'ts-vpn up with an SSH password typed on a terminal',
  () => {
    const lab = useLab();
    const user = `tvpw${randomBytes(3).toString('hex')}`;
    const password = `Pw-${randomBytes(9).toString('base64url')}`;
    let pw: Sshd;
    let kbd: Sshd;
    let gw: Sshd;
    let knownHosts: string;
    let userMade = false;

    beforeAll(async () => {
      execFileSync(
        'useradd',
        ['-o', '-u', '0', '-g', '0', '-M', '-d', '/root', '-s', '/bin/sh', '-N', user],
        {
          stdio: 'ignore',
        },
      );
      userMade = true;
      execFileSync('chpasswd', [], {
        input: `${user}:${password}\n`,
        stdio: ['pipe', 'ignore', 'inherit'],
      });
      const typedOnly = 'Match all\n  PubkeyAuthentication no\n  PermitRootLogin yes\n';
      pw = await startSshd({
        ns: lab.srv.name,
        listenAddress: SERVER_ADDR,
        port: 2223,
        extraConfig: `${typedOnly}  PasswordAuthentication yes\n`,
      });
      kbd = await startSshd({
        ns: lab.srv.name,
        listenAddress: SERVER_ADDR,
        port: 2224,
        usePam: true,
        extraConfig: `${typedOnly}  KbdInteractiveAuthentication yes\n`,
      });
      gw = await startSshd({ ns: lab.lan.name, listenAddress: LAN_ADDR, port: 2222 });
      knownHosts = join(lab.dir, 'pw_known_hosts');
      writeFileSync(
        knownHosts,
        [pw, kbd, gw].map((s) => readFileSync(s.knownHostsPath, 'utf8')).join(''),
      );
    }, 120_000);

    afterAll(async () => {
      await Promise.all([pw?.stop(), kbd?.stop(), gw?.stop()]);
      // -f: the account shares uid 0 with running processes, which userdel would refuse.
      if (userMade) execFileSync('userdel', ['-f', user], { stdio: 'ignore' });
    });

    function peerFile(name: string, ssh: string): string {
      return lab.writePeer(`${name}.yaml`, {
        name: `${name}-${lab.id}`,
        ssh: `${ssh}
  agent: false
  config: false
  host-key:
    known-hosts: ${knownHosts}
  connect-timeout: 10`,
        routes: [],
      });
    }

    /** Stops a tty `up` with `ts-vpn down` (script's pid is not ts-vpn's) and waits for it. */
    async function down(up: UpProcess, name: string): Promise<number | null> {
      const r = lab.runCli(['down', name]);
      expect(r.code).toBe(0);
      return (await up.exited).code;
    }

    /** The secret must be nowhere: log, state dir, argv and environment of every ts-vpn process. */
    function expectNoSecret(up: UpProcess) {
      expect(up.log()).not.toContain(password);
      expect(allText(lab.stateDir)).not.toContain(password);
      for (const pid of childPids(up.pid)) {
        for (const f of ['cmdline', 'environ']) {
          let text = '';
          try {
            text = readFileSync(`/proc/${pid}/${f}`, 'latin1');
          } catch {
            /* exited */
          }
          expect(text).not.toContain(password);
        }
      }
    }

    it('asks "user@host\'s password:" without echo, and the tunnel comes up with it', async () => {
      const name = `pw-${lab.id}`;
      const peer = peerFile('pw', `  host: ${SERVER_ADDR}\n  port: 2223\n  user: ${user}`);
      const up = await lab.startUp({ peerYaml: peer, tty: true, wait: false, args: ['--debug'] });
      await up.waitFor(new RegExp(`${user}@${SERVER_ADDR.replace(/\./g, '\\.')}'s password: $`));
      up.type(`${password}\r`);
      await up.waitFor(/tunnel up:/, 30_000);
      expect(up.log()).toMatch(new RegExp(`ssh: authenticated as ${user} \\(password\\)`));
      expect(lab.cli.try('ping', ['-c', '1', '-W', '2', SERVER_PPP_ADDR]).code).toBe(0);
      expect(pw.log()).toMatch(new RegExp(`Accepted password for ${user}`));
      expectNoSecret(up);
      expect(await down(up, name)).toBe(0);
      expectNoSecret(up);
    });

    it('a wrong password is asked again, three times, then exits 5 saying so', async () => {
      const peer = peerFile('pwbad', `  host: ${SERVER_ADDR}\n  port: 2223\n  user: ${user}`);
      const up = await lab.startUp({ peerYaml: peer, tty: true, wait: false });
      const prompt = `${user}@${SERVER_ADDR}'s password: `;
      for (let i = 1; i <= 3; i++) {
        await up.waitFor({ test: (t: string) => t.split(prompt).length - 1 >= i } as RegExp);
        up.type(`wrong-${i}\r`);
      }
      const r = await up.exited;
      expect(r.code).toBe(5);
      expect(up.log()).toMatch(/Permission denied \(password\)\. Tried: password\. Wrong password/);
      expect(up.log()).not.toContain('wrong-');
      expect(pw.log()).toMatch(new RegExp(`Failed password for ${user}`));
    });

    it('answers the keyboard-interactive prompt sshd asks through PAM', async () => {
      const name = `kbd-${lab.id}`;
      const peer = peerFile('kbd', `  host: ${SERVER_ADDR}\n  port: 2224\n  user: ${user}`);
      const up = await lab.startUp({ peerYaml: peer, tty: true, wait: false, args: ['--debug'] });
      await up.waitFor(/Password: $/);
      up.type(`${password}\r`);
      await up.waitFor(/tunnel up:/, 30_000);
      expect(up.log()).toMatch(
        new RegExp(`ssh: authenticated as ${user} \\(keyboard-interactive\\)`),
      );
      expect(kbd.log()).toMatch(new RegExp(`Accepted keyboard-interactive/pam for ${user}`));
      expectNoSecret(up);
      expect(await down(up, name)).toBe(0);
    });

    it("asks for the jump host's password, then reaches the gateway behind it with a key", async () => {
      const name = `jpw-${lab.id}`;
      const peer = peerFile(
        'jpw',
        `  host: ${LAN_ADDR}\n  port: 2222\n  user: root\n  identity-files: [${gw.clientKeyPath}]\n  jump: [${user}@${SERVER_ADDR}:2223]`,
      );
      const up = await lab.startUp({ peerYaml: peer, tty: true, wait: false });
      await up.waitFor(new RegExp(`${user}@${SERVER_ADDR.replace(/\./g, '\\.')}'s password: $`));
      up.type(`${password}\r`);
      await up.waitFor(/tunnel up:/, 30_000);
      expect(pw.log()).toMatch(new RegExp(`Accepted password for ${user}`));
      expect(gw.log()).toMatch(/Accepted publickey for root/);
      expectNoSecret(up);
      expect(await down(up, name)).toBe(0);
    });

    it('without a terminal, refuses with exit 5 and says how to fix it', async () => {
      const peer = peerFile('notty', `  host: ${SERVER_ADDR}\n  port: 2223\n  user: ${user}`);
      const up = await lab.startUp({ peerYaml: peer, wait: false });
      const r = await up.exited;
      expect(r.code).toBe(5);
      expect(up.log()).toMatch(
        /no terminal to ask on \(stdin is not a TTY\): run `ts-vpn up` from a terminal/,
      );
      expect(up.log()).not.toMatch(/password: /);
    });
  },
);
