import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createNetns, type Netns, requireNetns, uniqueId } from '../support/netns.js';

const AGENT = fileURLToPath(new URL('./fixtures/lan-agent.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ok = requireNetns('gateway LAN tests');
const made: Netns[] = [];
afterAll(() => {
  for (const ns of made) ns.destroy();
});

function lab(): Netns {
  const ns = createNetns(`tvgwlan-${uniqueId()}`);
  made.push(ns);
  ns.exec('ip', ['link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan1']);
  ns.exec('ip', ['link', 'set', 'lan0', 'up']);
  return ns;
}

/** Starts the agent; resolves with its first line and a function that stops it. */
function agent(ns: Netns, yaml: string, addrs: string[]) {
  const p = ns.spawn(process.execPath, ['--import', 'tsx', AGENT, yaml, ...addrs], { cwd: ROOT });
  let out = '';
  const line = (want: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = out.split('\n').find((l) => want.test(l));
        if (m) resolve(m);
      };
      p.stdout?.on('data', (d) => {
        out += d;
        check();
      });
      p.once('exit', () => {
        check();
        reject(new Error(`agent exited: ${out}`));
      });
      check();
    });
  const stop = () => {
    p.stdin?.end();
    return line(/^closed/);
  };
  return { first: line(/^(ready|error)/), stop };
}

const proxies = (ns: Netns) => ns.exec('ip', ['neigh', 'show', 'proxy']).trim();
const sysctl = (ns: Netns) => ns.exec('cat', ['/proc/sys/net/ipv4/ip_forward']).trim();

describe.skipIf(!ok)('gateway LAN side (in a namespace)', () => {
  it('forwarding: check refuses with the sysctl to run, and changes nothing', async () => {
    const ns = lab();
    const a = agent(ns, 'lan-interface: lan0\nproxy-arp: true\n', ['10.77.0.5']);
    expect(await a.first).toMatch(
      /^error: net\.ipv4\.ip_forward is 0: .*Run: sysctl -w net\.ipv4\.ip_forward=1/,
    );
    expect(proxies(ns)).toBe('');
  });

  it('adds proxy ARP entries and enables forwarding, and removes/puts back all of it on close', async () => {
    const ns = lab();
    const a = agent(ns, 'lan-interface: lan0\nproxy-arp: true\nforwarding: enable\n', [
      '10.77.0.5',
      '10.77.0.6',
    ]);
    expect(await a.first).toBe('ready');
    expect(sysctl(ns)).toBe('1');
    expect(
      proxies(ns)
        .split('\n')
        .map((l) => l.trim())
        .sort(),
    ).toEqual(['10.77.0.5 dev lan0 proxy', '10.77.0.6 dev lan0 proxy']);
    await a.stop();
    expect(proxies(ns)).toBe('');
    expect(sysctl(ns)).toBe('0');
  });

  it('refuses an unknown lan-interface by name', async () => {
    const ns = lab();
    const a = agent(ns, 'lan-interface: nope0\nproxy-arp: true\nforwarding: enable\n', []);
    expect(await a.first).toMatch(/^error: lan-interface nope0 does not exist here/);
    expect(sysctl(ns)).toBe('0');
  });
});
