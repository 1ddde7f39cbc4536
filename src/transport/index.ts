export type { CloseCode, CloseReason, DataListener, Transport, TransportInfo } from './types.js';
export { TransportError, type TransportErrorCode, isTransportError } from './errors.js';
export {
  DEFAULT_CIPHERS,
  SshConnection,
  type SshConnectOptions,
  type SshExecOptions,
  type SshIdentity,
  SshTransport,
} from './ssh.js';
export { CommandTransport, type CommandOptions } from './command.js';
export { StdioTransport, type StdioOptions } from './stdio.js';
export {
  fingerprintSha256,
  type HostKeyPolicy,
  type HostKeyVerdict,
  keyTypeLabel,
  normalizeFingerprint,
  verifyHostKey,
} from './host-key.js';
export {
  appendKnownHost,
  entryMatchesHost,
  formatKnownHostLine,
  type KnownHostEntry,
  knownHostName,
  matchHostPatterns,
  matchPattern,
  parseKnownHosts,
  readKnownHostsFile,
} from './known-hosts.js';
export { getPipeSize, setPipeSize } from './pipe-size.js';
