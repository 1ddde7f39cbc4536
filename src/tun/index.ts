/** The Linux data plane: TUN device and rtnetlink configuration. */

export {
  type Cidr,
  formatCidr,
  formatIp,
  type IpAddr,
  linkLocalFromInterfaceId,
  parseCidr,
  parseIp,
} from './addr.js';
export {
  type PacketsHandler,
  TunDevice,
  type TunOpenOptions,
  type TunReaderKind,
  type TunStats,
  validateIfName,
} from './device.js';
export { TunError, type TunErrorCode } from './errors.js';
export {
  NetConfig,
  type NetConfigOptions,
  netlinkError,
  type RouteHandle,
  type RouteInfo,
  type RouteSpec,
} from './netconfig.js';
export { cidrContains, type DefaultRouteOptions, RouteTracker } from './routes.js';
