/**
 * The training run behind the CLI's V8 code cache (scripts/build.mjs calls it through
 * src/cli/launcher.cts, then saves the cache next to the bundle).
 *
 * V8 puts into a code cache the functions compiled so far, so the run goes through what a
 * command does before and around its first SSH byte, with no side effect outside `dir`
 * (a fresh private directory of the caller) and no privileges: it loads every command's
 * modules (their top-level code, zod's schema construction; the TUN/netlink module and
 * its native packages, without opening anything), runs a PPP link into nothing, parses the command line,
 * a peer.yaml and a server.yaml, generates and parses an SSH key, and connects to a
 * listener on 127.0.0.1 that hangs up after the client's first bytes (ssh2's
 * identification line), as `ts-vpn up` does up to there. Nothing here runs in a user's
 * command: only the build calls it.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

/** Runs the start-up paths once in `dir` (see the header); throws if the example configs do not load. */
export async function warmUp(dir: string): Promise<void> {
  const [config, transport, logger, native, args, help, iface, link] = await Promise.all([
    import('../config/index.js'),
    import('../transport/index.js'),
    import('../runtime/logger.js'),
    import('../native-modules.js'),
    import('./args.js'),
    import('./help.js'),
    import('../runtime/interface-loader.js'),
    import('../link/index.js'),
    // The rest of each command's modules, for their top-level code.
    import('../runtime/client.js'),
    import('../runtime/server.js'),
    import('../runtime/sd-notify.js'),
    import('../runtime/tty-prompt.js'),
    import('./check.js'),
  ]);
  args.parseCommandLine(['--debug', 'up', 'peer.yaml']);
  args.parseCommandLine(['serve', '--client-route', '10.0.0.0/8']);
  void help.HELP.up;
  // The TUN/netlink code and its native packages, as `up` loads them after its SYN.
  await iface.loadInterfaceModule().catch(() => undefined);
  // A link that sends its first LCP frame into nothing (the engine, the framing).
  const session = new link.LinkSession(
    { write: () => true, onData: () => undefined, onDrain: () => undefined },
    { engine: { random32: () => 0 } },
  );
  session.start();
  session.stop();

  const key = native.ssh2().utils.generateKeyPairSync('ed25519');
  const keyFile = join(dir, 'id_ed25519');
  writeFileSync(keyFile, key.private, { mode: 0o600 });
  const server = await listenOnce();
  try {
    const port = (server.address() as { port: number }).port;
    const peerFile = join(dir, 'peer.yaml');
    writeFileSync(
      peerFile,
      [
        'name: warmup',
        'ssh:',
        '  host: 127.0.0.1',
        `  port: ${port}`,
        '  user: warmup',
        `  identity-files: [${JSON.stringify(keyFile)}]`,
        '  host-key:',
        `    fingerprint: SHA256:${'A'.repeat(43)}`,
        'ppp:',
        '  accept-local: [10.77.0.0/24]',
        '  accept-peer: [10.77.0.0/24]',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const serverFile = join(dir, 'server.yaml');
    writeFileSync(serverFile, 'pool: 10.77.0.0/24\ndns: [10.1.0.53]\n', { mode: 0o600 });
    config.parseConfigWithoutJit(); // as up and serve parse
    const env = config.defaultConfigEnv(dir);
    const cfg = await config.loadPeerConfig(peerFile, { stateRoot: dir, env });
    await config.loadServerConfig(serverFile, { env }).catch(() => undefined);
    const log = new logger.Logger({ sink: { write: () => undefined } });
    await transport.connectTransport(cfg, { log }).then(
      ({ transport: t }) => t.close(),
      () => undefined,
    );
  } finally {
    server.close();
  }
}

/** A listener that closes each connection when its first bytes arrive. */
function listenOnce(): Promise<Server> {
  const server = createServer((sock) => {
    sock.once('data', () => sock.destroy());
    sock.on('error', () => undefined);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
