/** Which far end a remote command starts: ts-vpn or pppd (for `remote.kind` when not given). */

/** Detects `ts-vpn` vs `pppd` from the first real word of the command (after sudo/env/VAR=…). */
export function detectRemoteKind(command: string): 'ts-vpn' | 'pppd' | null {
  const words = command.trim().split(/\s+/);
  for (const w of words) {
    if (
      w === 'sudo' ||
      w === 'exec' ||
      w === 'env' ||
      w === 'doas' ||
      w.startsWith('-') ||
      /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)
    )
      continue;
    const base = w.split('/').pop() ?? w;
    if (base === 'pppd') return 'pppd';
    if (base === 'ts-vpn' || base === 'ts-vpn.js') return 'ts-vpn';
    return null;
  }
  return null;
}

/** Like detectRemoteKind, for a local command that runs the far end's (any word may be it). */
export function detectWrappedKind(command: string): 'ts-vpn' | 'pppd' | null {
  for (const w of command.trim().split(/\s+/)) {
    const base =
      w
        .replace(/^['"]|['"]$/g, '')
        .split('/')
        .pop() ?? w;
    if (base === 'pppd') return 'pppd';
    if (base === 'ts-vpn' || base === 'ts-vpn.js') return 'ts-vpn';
  }
  return null;
}
