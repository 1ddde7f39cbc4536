/** The Linux data plane: TUN device and rtnetlink configuration. */
export { TunDevice, validateIfName, type TunOpenOptions, type TunStats, type PacketsHandler } from './device.js';
export { NetConfig, netlinkError, type NetConfigOptions, type RouteSpec, type RouteInfo, type RouteHandle } from './netconfig.js';
export { RouteTracker, cidrContains, type DefaultRouteOptions } from './routes.js';
export { TunError, type TunErrorCode } from './errors.js';
export { parseIp, parseCidr, formatIp, formatCidr, linkLocalFromInterfaceId, type IpAddr, type Cidr } from './addr.js';
