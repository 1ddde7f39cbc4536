/** The Linux data plane: TUN device and rtnetlink configuration. */

export {
  completeChecksum,
  isGsoFrame,
  readVnetHdr,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VNET_HDR_LEN,
  VNET_MIN_GSO_SIZE,
  type VnetHdr,
  validateVnetFrame,
  writeVnetHdr,
} from '../wire/vnet-hdr.js';
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
  VNET_GSO_MAX_SIZE,
  VNET_MAX_MTU,
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
