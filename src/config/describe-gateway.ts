/** A human summary of a loaded gateway.yaml, for `ts-vpn check`. Never prints secrets. */
import { echoText } from './describe.js';
import type { GatewayConfig, GatewayPolicy } from './gateway-schema.js';

/** `pool lan, routes 192.168.1.0/24, dns 192.168.1.1, 2 sessions` or `refused`. */
function policyText(p: GatewayPolicy): string {
  if (!p.allow) return 'refused';
  const parts = [p.address !== null ? `address ${p.address}` : `pool ${p.pool}`];
  if (p.routes.length) parts.push(`routes ${p.routes.join(', ')}`);
  if (p.allowClientRoutes.length)
    parts.push(`client routes within ${p.allowClientRoutes.join(', ')}`);
  if (p.dns.length) parts.push(`dns ${p.dns.join(', ')}`);
  parts.push(`${p.maxSessions} session${p.maxSessions === 1 ? '' : 's'}`);
  if (p.pppAuth !== 'none') parts.push(`ppp auth ${p.pppAuth}`);
  return parts.join(', ');
}

export function describeGateway(cfg: GatewayConfig): string {
  const { socket, runAs } = cfg;
  const lines = [`ts-vpn gateway (${cfg.source})`];
  lines.push(
    `  socket: ${socket.path} (mode 0${socket.mode.toString(8)}, group ${socket.group ?? "root's"})`,
  );
  lines.push(
    `  addresses: gateway ${cfg.localAddress}; pools ${cfg.pools.map((p) => `${p.name} ${p.text}${p.text === `${p.first}-${p.last}` ? '' : ` (${p.first}-${p.last})`}`).join(', ')}`,
  );
  lines.push(`  defaults: ${policyText(cfg.defaults)}`);
  for (const [name, p] of cfg.users) lines.push(`  user ${name}: ${policyText(p)}`);
  for (const [name, p] of cfg.groups) lines.push(`  group ${name}: ${policyText(p)}`);
  lines.push(
    `  users not listed: ${cfg.unknownUsers === 'refuse' ? 'refused' : 'the defaults'}; at most ${cfg.maxSessions} sessions in all`,
  );
  lines.push(
    `  LAN: ${cfg.lanInterface ?? 'no lan-interface'}, proxy ARP ${cfg.proxyArp ? 'on' : 'off'}, masquerade ${cfg.masquerade ? 'on' : 'off'}, forwarding ${cfg.forwarding === 'enable' ? 'enabled at start' : 'checked at start'}`,
  );
  lines.push(
    `  ppp: interfaces ${cfg.interfaceName}, mru ${cfg.mru}, echo ${echoText(cfg.echoIntervalMs, cfg.echoFailures)}, ipv6 ${cfg.ipv6 ? 'on' : 'off'}, offload ${cfg.offload ? 'on' : 'off'}${cfg.debug ? ', debug' : ''}`,
  );
  if (cfg.auth.users.length)
    lines.push(
      `  ppp auth as "${cfg.auth.name}": secrets for ${cfg.auth.users.map((u) => u.user).join(', ')} (hidden)`,
    );
  const who =
    runAs.user !== null || runAs.group !== null
      ? `user ${runAs.user ?? 'root'}${runAs.group !== null ? `, group ${runAs.group}` : ''}`
      : 'root';
  lines.push(`  runs as: ${who}, keeping only CAP_NET_ADMIN once it listens`);
  lines.push(`  state dir: ${cfg.stateDir}`);
  for (const w of cfg.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}
