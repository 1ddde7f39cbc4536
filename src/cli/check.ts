/**
 * `ts-vpn check FILE`: validates a peer (ts-vpn up) or server (ts-vpn serve) file and
 * prints what it means. Which of the two a file is comes from its CONTENT, never its
 * name: keys only a peer file has (ssh, remote, ppp, …) against keys only a server file
 * has (pool, max-sessions, …), both lists taken from the config schemas. `--peer` /
 * `--server` force the kind. An empty file, a file with only keys both kinds share, and
 * a file that mixes both kinds are errors (exit 2) that say which option settles it.
 */
import { readFile } from 'node:fs/promises';
import { describeConfig, loadPeerConfig, loadServerConfig } from '../config/index.js';
import { peerSchema } from '../config/peer.js';
import { serverSchema } from '../config/server.js';
import { readYaml } from '../config/source.js';
import { CliError, ExitCode } from './exit-codes.js';

export type ConfigKind = 'peer' | 'server';

const PEER_KEYS = Object.keys(peerSchema.shape);
const SERVER_KEYS = Object.keys(serverSchema.shape);
const PEER_ONLY = PEER_KEYS.filter((k) => !SERVER_KEYS.includes(k));
const SERVER_ONLY = SERVER_KEYS.filter((k) => !PEER_KEYS.includes(k));

function usage(message: string): CliError {
  return new CliError(message, ExitCode.CONFIG, 'USAGE');
}

function list(keys: string[]): string {
  return keys.slice(0, 4).join(', ') + (keys.length > 4 ? ', …' : '');
}

/**
 * peer or server, from the top-level keys of `text`. Throws ConfigError on a YAML error
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
  force: { peer?: boolean; server?: boolean },
  out: (text: string) => void,
): Promise<number> {
  if (args.length !== 1) throw usage('check takes one file (see "ts-vpn check --help")');
  if (force.peer && force.server) throw usage('give --peer or --server, not both');
  const file = args[0];
  let kind: ConfigKind;
  if (force.peer) kind = 'peer';
  else if (force.server) kind = 'server';
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
  const cfg = kind === 'peer' ? await loadPeerConfig(file) : await loadServerConfig(file);
  out(describeConfig(cfg));
  out(
    `ok: ${file} is a valid ${kind === 'peer' ? 'peer (ts-vpn up)' : 'server (ts-vpn serve)'} configuration`,
  );
  return ExitCode.OK;
}
