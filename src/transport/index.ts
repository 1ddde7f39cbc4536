export { type CommandOptions, CommandTransport } from './command.js';
export {
  type ConnectedTransport,
  type ConnectHooks,
  type ConnectLog,
  connectTransport,
  describeRemote,
} from './connect.js';
export { isTransportError, TransportError, type TransportErrorCode } from './errors.js';
export {
  DEFAULT_HOST_KEY_ALGORITHMS,
  fingerprintSha256,
  type HostKeyPolicy,
  type HostKeyVerdict,
  hostKeyAlgorithmsFor,
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
export { getPipeSize, setBlocking, setPipeSize } from './pipe-size.js';
export {
  DEFAULT_CIPHERS,
  openSshTransport,
  SshConnection,
  type SshConnectOptions,
  type SshExecOptions,
  type SshIdentity,
  type SshPrompter,
  SshTransport,
} from './ssh.js';
export { type StdioOptions, StdioTransport } from './stdio.js';
export type { CloseCode, CloseReason, DataListener, Transport, TransportInfo } from './types.js';
