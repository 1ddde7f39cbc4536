/**
 * `ts-vpn check FILE`: validates a peer (ts-vpn up), server (ts-vpn serve) or gateway
 * (ts-vpn gateway) file and prints what it means. Which kind a file is comes from its
 * CONTENT, never its name: keys only one kind has (ssh, remote, ppp for a peer; routes,
 * dns, peer-address for a server; socket, pools, users, lan-interface, … for a gateway),
 * the lists taken from the config schemas. `--peer` / `--server` / `--gateway` force the
 * kind. An empty file, a file that mixes kinds and a file with only keys both a peer and
 * a server file take are errors (exit 2) that say which option settles it; a file with
 * only keys a server and a gateway file share (pool, max-sessions, …) is a server file,
 * as before gateways existed.
 */
import { readFile } from 'node:fs/promises';
import { gatewaySchema } from '../config/gateway-schema.js';
import { describeConfig, loadPeerConfig, loadServerConfig } from '../config/index.js';
import { peerSchema } from '../config/peer.js';
import { serverSchema } from '../config/server.js';
import { readYaml } from '../config/source.js';
import { CliError, ExitCode } from './exit-codes.js';

export type ConfigKind = 'peer' | 'server' | 'gateway';

const PEER_KEYS = Object.keys(peerSchema.shape);
const SERVER_KEYS = Object.keys(serverSchema.shape);
const GATEWAY_KEYS = Object.keys(gatewaySchema.shape);
/** Keys of `mine` that none of `others` has. */
const only = (mine: string[], ...others: string[][]) =>
  mine.filter((k) => !others.some((o) => o.includes(k)));
const PEER_ONLY = only(PEER_KEYS, SERVER_KEYS);
const SERVER_ONLY = only(SERVER_KEYS, PEER_KEYS);
const GATEWAY_ONLY = only(GATEWAY_KEYS, PEER_KEYS, SERVER_KEYS);
const WHAT: Record<ConfigKind, string> = {
  peer: 'peer (ts-vpn up)',
  server: 'server (ts-vpn serve)',
  gateway: 'gateway (ts-vpn gateway)',
};

function usage(message: string): CliError {
  return new CliError(message, ExitCode.CONFIG, 'USAGE');
}

function list(keys: string[]): string {
  return keys.slice(0, 4).join(', ') + (keys.length > 4 ? ', …' : '');
}

/**
 * peer, server or gateway, from the top-level keys of `text`. Throws ConfigError on a YAML error
 * (with its line) and CliError for files that are neither or both.
 */
export function detectConfigKind(text: string, file: string): ConfigKind {
  const { data } = readYaml(text, file);
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw usage(
      `${file}: expected a mapping of settings (key: value lines) at the top level, got ${Array.isArray(data) ? 'a list' : 'a single value'}`,
    );
  const keys = Object.keys(data);
  if (keys.length === 0)
    throw usage(
      `${file} is empty: nothing to check (a peer file needs at least ssh and routes; ts-vpn serve without a file uses its defaults)`,
    );
  const peer = keys.filter((k) => PEER_ONLY.includes(k));
  const server = keys.filter((k) => SERVER_ONLY.includes(k));
  const gateway = keys.filter((k) => GATEWAY_ONLY.includes(k));
  if (gateway.length > 0) {
    // Keys of another kind that a gateway file does not take.
    const otherKind = peer.length > 0 ? 'peer' : 'server';
    const otherKeys = peer.length > 0 ? peer : only(server, GATEWAY_KEYS);
    if (otherKeys.length === 0) return 'gateway';
    throw usage(
      `${file} mixes gateway keys (${list(gateway)}) and ${otherKind} keys (${list(otherKeys)}); a file is one or the other: pass --gateway or --${otherKind} to check it as one`,
    );
  }
  if (peer.length > 0 && server.length === 0) return 'peer';
  if (server.length > 0 && peer.length === 0) return 'server';
  if (peer.length > 0)
    throw usage(
      `${file} mixes peer keys (${list(peer)}) and server keys (${list(server)}); a file is one or the other: pass --peer or --server to check it as one`,
    );
  throw usage(
    `${file}: cannot tell a peer file from a server file (its keys ${list(keys)} fit both); pass --peer or --server`,
  );
}

export async function cmdCheck(
  args: string[],
  force: { peer?: boolean; server?: boolean; gateway?: boolean },
  out: (text: string) => void,
): Promise<number> {
  if (args.length !== 1) throw usage('check takes one file (see "ts-vpn check --help")');
  const forced = (['peer', 'server', 'gateway'] as const).filter((k) => force[k]);
  if (forced.length > 1) throw usage('give one of --peer, --server and --gateway');
  const file = args[0];
  let kind: ConfigKind;
  if (forced[0]) kind = forced[0];
  else {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      // The loader says why (no such file, permission denied, a directory) in its words.
      await loadPeerConfig(file);
      throw usage(`${file}: cannot read the file`);
    }
    kind = detectConfigKind(text, file);
  }
  if (kind === 'server') {
    // An empty server file is not "the defaults": it is most likely the wrong file.
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text !== null && Object.keys(readYaml(text, file).data as object).length === 0)
      throw usage(
        `${file} is empty: nothing to check (ts-vpn serve without a file uses its defaults)`,
      );
  }
  if (kind === 'gateway') {
    const [{ loadGatewayConfig }, { describeGateway }] = await Promise.all([
      import('../config/gateway.js'),
      import('../config/describe-gateway.js'),
    ]);
    out(describeGateway(await loadGatewayConfig(file)));
  } else {
    const cfg = kind === 'peer' ? await loadPeerConfig(file) : await loadServerConfig(file);
    out(describeConfig(cfg));
  }
  out(`ok: ${file} is a valid ${WHAT[kind]} configuration`);
  return ExitCode.OK;
}
