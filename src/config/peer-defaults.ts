/** Defaults and fixed lists of `peer.yaml`; PPP values the engine defines are imported from it. */
import { ENGINE_DEFAULTS } from '../engine/defaults.js';

export const PEER_DEFAULTS = {
  sshPort: 22,
  identityFiles: ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'],
  knownHosts: '~/.ssh/known_hosts',
  keepaliveInterval: 15,
  keepaliveCountMax: 3,
  connectTimeout: 15,
  ciphers: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'],
  remoteCommand: 'sudo ts-vpn serve',
  mru: ENGINE_DEFAULTS.lcp.mru,
  accm: 0,
  echoInterval: 10,
  echoFailures: ENGINE_DEFAULTS.lcp.echoFailures,
  /** Seconds, like the YAML key. */
  restart: ENGINE_DEFAULTS.lcp.restartMs / 1000,
  maxConfigure: ENGINE_DEFAULTS.lcp.maxConfigure,
  maxTerminate: ENGINE_DEFAULTS.lcp.maxTerminate,
  maxFailure: ENGINE_DEFAULTS.lcp.maxFailure,
  interface: 'tsvpn%d',
  holdoff: 1,
  maxBackoff: 60,
  hookTimeout: 10,
  stateRoot: '/run/ts-vpn',
} as const;

/**
 * Ciphers ts-vpn allows: ssh2 implements them; no CBC, arcfour, 3DES or Blowfish. The one
 * list: peer.yaml `ssh.ciphers` (peer-checks.ts) and ssh_config `Ciphers` (ssh-host.ts)
 * are both held to it.
 */
export const SUPPORTED_CIPHERS = [
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'chacha20-poly1305@openssh.com',
  'aes128-gcm',
  'aes256-gcm',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
] as const;

/** The ssh settings whose origin `ts-vpn check` shows (peer.yaml key names under ssh). */
export const SSH_SETTING_KEYS = [
  'host',
  'port',
  'user',
  'identity-files',
  'agent',
  'host-key.known-hosts',
  'host-key.fingerprint',
  'host-key.accept-new',
  'host-key.alias',
  'keepalive-interval',
  'keepalive-count-max',
  'connect-timeout',
  'ciphers',
  'jump',
  /** Not a peer.yaml key: ssh_config's PasswordAuthentication, KbdInteractiveAuthentication, BatchMode. */
  'typed-auth',
] as const;
