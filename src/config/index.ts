/** peer.yaml / server.yaml → validated, typed config. See docs/CONFIG.md. */

export { describeConfig } from './describe.js';
export { type ConfigEnv, defaultConfigEnv, expandPath } from './env.js';
export { ConfigError, type ConfigIssue, formatIssue, Secret } from './errors.js';
export { parseConfigWithoutJit } from './fields.js';
export {
  checkSecretFilePermissions,
  type LoadOptions,
  loadPeerConfig,
  loadServerConfig,
  type Resolver,
  systemResolver,
} from './files.js';
export { PRIVATE_IPV4_RANGES } from './net.js';
export {
  detectRemoteKind,
  PEER_DEFAULTS,
  type PeerConfig,
  parsePeerConfig,
  SUPPORTED_CIPHERS,
} from './peer.js';
export {
  defaultServerConfig,
  parseServerConfig,
  SERVER_DEFAULTS,
  type ServerConfig,
  type ServerUser,
} from './server.js';
