import { describe, expect, it } from 'vitest';
import { SERVER_ADDR, SERVER_PPP_ADDR } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('e2e tests');

describe.skipIf(!enabled)('ts-vpn up with ssh.client: openssh', () => {
  const lab = useLab();

  it('brings the tunnel up through the system ssh binary', async () => {
    const peer = lab.writePeer('openssh.yaml', {
      name: `ossh-${lab.id}`,
      ssh: `  client: openssh
  host: ${SERVER_ADDR}
  port: ${lab.sshd.port}
  user: root
  identity-files: [${lab.sshd.clientKeyPath}]
  agent: false
  config: false
  host-key:
    known-hosts: ${lab.sshd.knownHostsPath}`,
    });
    const up = await lab.startUp({ peerYaml: peer });
    try {
      const log = up.log();
      expect(log).toMatch(
        /ssh: started the system ssh: ssh -T -e none -o BatchMode=yes -F none -p 2222 -l root -i \S+ -o IdentityAgent=none -o UserKnownHostsFile=\S+ -o ServerAliveInterval=15 -- 198\.18\.0\.2 .* serve --config/,
      );
      expect(log).not.toMatch(/ssh: connected in/);
      expect(log).toMatch(/tunnel up: /);
      expect(lab.cli.try('ping', ['-c', '2', '-i', '0.2', '-W', '2', SERVER_PPP_ADDR]).code).toBe(
        0,
      );
      // The real sshd saw the system ssh log in with the lab's key.
      expect(lab.sshd.log()).toMatch(/Accepted publickey for root from 198\.18\.0\.1/);
    } finally {
      expect((await up.stop()).code).toBe(0);
    }
  });
});
