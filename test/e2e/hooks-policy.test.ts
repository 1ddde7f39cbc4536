/**
 * End to end: hooks that fail or hang never wedge the tunnel; `ts-vpn serve`
 * enforces max-sessions (LCP Terminate with the reason) and allow-client-routes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, LAN_ADDR, links, NODE, routes, until } from '../support/lab.js';
import { requireNetns } from '../support/netns.js';
import { useLab } from '../support/use-lab.js';

const enabled = requireNetns('e2e tests');

describe.skipIf(!enabled)('hooks and serve policy', () => {
  const lab = useLab();

  it('(d) a failing up hook and a hanging down hook (timeout 1 s) do not wedge the tunnel', async () => {
    const peer = lab.writePeer('hooks.yaml', {
      name: `hk-${lab.id}`,
      extra: `reconnect:
  enabled: false
hooks:
  up: echo up-hook-says-hello; exit 1
  down: sleep 100
  timeout: 1
`,
    });
    const up = await lab.startUp({ peerYaml: peer });
    await up.waitFor(/up hook: up-hook-says-hello/, 5000);
    await up.waitFor(/up hook "echo up-hook-says-hello; exit 1": exited with code 1/, 5000);
    expect(lab.cli.try('ping', ['-c', '1', '-W', '2', LAN_ADDR]).code).toBe(0);
    const t0 = Date.now();
    const r = await up.stop('SIGTERM', 15_000);
    const took = Date.now() - t0;
    expect(r.code, up.log()).toBe(0);
    expect(up.log()).toMatch(/down hook "sleep 100": timed out after 1 s \(process group killed\)/);
    console.log(`[hooks] shutdown with a hanging down hook (timeout 1 s) took ${took} ms`);
    expect(took).toBeLessThan(6000);
    expect(links(lab.cli).some((l) => l.ifname.startsWith('tsvpn'))).toBe(false);
    // (That the hook's whole process group is killed is asserted in test/runtime/hooks.test.ts.)
  }, 30_000);

  it('serve refuses a session beyond max-sessions with the reason in LCP Terminate and on stderr', async () => {
    const yaml = join(lab.dir, 'server-one.yaml');
    writeFileSync(
      yaml,
      `pool: 10.77.0.0/24\nmax-sessions: 1\nstate-dir: ${join(lab.dir, 'srv-one')}\necho-interval: 5\n`,
    );
    const cmd = `${NODE} ${CLI} serve --config ${yaml}`;
    const a = await lab.startUp({
      peerYaml: lab.writePeer('one-a.yaml', {
        name: `oa-${lab.id}`,
        remoteCommand: cmd,
        routes: [],
        interface: 'tva%d',
        extra: 'reconnect:\n  enabled: false',
      }),
    });
    const b = await lab.startUp({
      wait: false,
      peerYaml: lab.writePeer('one-b.yaml', {
        name: `ob-${lab.id}`,
        remoteCommand: cmd,
        routes: [],
        interface: 'tvb%d',
        extra: 'reconnect:\n  enabled: false',
      }),
    });
    const r = await b.exited;
    expect(r.code, b.log()).toBe(6);
    expect(b.log()).toMatch(
      /remote: .*serve: refusing the session: too many sessions: all 1 allowed by max-sessions are in use/,
    );
    expect(b.log()).toMatch(
      /ts-vpn: the far end refused the link: too many sessions: all 1 allowed by max-sessions are in use/,
    );
    expect(links(lab.cli).some((l) => l.ifname.startsWith('tvb'))).toBe(false);
    // The first session is untouched; once it is gone, a new one is accepted.
    expect(lab.cli.try('ping', ['-c', '1', '-W', '2', '10.77.0.1']).code).toBe(0);
    expect((await a.stop('SIGTERM')).code).toBe(0);
    await until(() => lab.servePids().length === 0, 5000, 'serve to exit');
    const c = await lab.startUp({
      peerYaml: lab.writePeer('one-b.yaml', {
        name: `ob-${lab.id}`,
        remoteCommand: cmd,
        routes: [],
        interface: 'tvb%d',
        extra: 'reconnect:\n  enabled: false',
      }),
    });
    expect((await c.stop('SIGTERM')).code).toBe(0);
  }, 45_000);

  it('serve routes a client network only within allow-client-routes', async () => {
    const yaml = join(lab.dir, 'server-routes.yaml');
    writeFileSync(
      yaml,
      `pool: 10.77.0.0/24\nallow-client-routes: [192.168.100.0/24]\nstate-dir: ${join(lab.dir, 'srv-routes')}\n`,
    );
    const up = await lab.startUp({
      peerYaml: lab.writePeer('routes.yaml', {
        name: `cr-${lab.id}`,
        remoteCommand: `${NODE} ${CLI} serve --config ${yaml} --client-route 192.168.100.128/25 --client-route 192.168.200.0/24`,
        routes: [],
        extra: 'reconnect:\n  enabled: false',
      }),
    });
    await up.waitFor(
      /client route 192\.168\.200\.0\/24 refused: not inside allow-client-routes \(192\.168\.100\.0\/24\)/,
      5000,
    );
    const srvRoutes = routes(lab.srv);
    const tsvs = links(lab.srv).find((l) => l.ifname.startsWith('tsvs'))!.ifname;
    expect(srvRoutes.find((r) => r.dst === '192.168.100.128/25')?.dev).toBe(tsvs);
    expect(srvRoutes.some((r) => r.dst === '192.168.200.0/24')).toBe(false);
    expect((await up.stop('SIGTERM')).code).toBe(0);
    await until(
      () => !routes(lab.srv).some((r) => r.dst === '192.168.100.128/25'),
      5000,
      'route removed',
    );
  }, 30_000);
});
