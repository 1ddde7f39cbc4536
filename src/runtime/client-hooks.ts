/**
 * The up and down hooks of `ts-vpn up` (pppd's ip-up / ip-down): the up hook once
 * per bring-up, not awaited; the down hook once per up, awaited (bounded by
 * hooks.timeout) while the interface and routes still exist.
 */
import { performance } from 'node:perf_hooks';
import type { PeerConfig } from '../config/index.js';
import { type HookEnv, runHook } from './hooks.js';
import type { TunnelInterface } from './interface.js';
import type { Logger } from './logger.js';

/** What the hooks' environment is made of, read when a hook runs. */
export interface HookFacts {
  iface: TunnelInterface | null;
  dns: string[];
  /** Bytes of the whole tunnel so far (status counters). */
  bytes(): { sent: number; received: number };
}

export class TunnelHooks {
  private upRan = false;

  constructor(
    private readonly config: PeerConfig,
    private readonly log: Logger,
    private readonly facts: () => HookFacts,
  ) {}

  /** The tunnel is up: the up hook (if any) starts; the down hook is owed from now on. */
  runUp(): void {
    this.upRan = true;
    const cfg = this.config;
    if (cfg.hooks.up)
      void runHook('up', cfg.hooks.up, this.env('up'), {
        timeoutMs: cfg.hooks.timeoutMs,
        log: this.log,
      });
  }

  /** The down hook, once per up, awaited (bounded by hooks.timeout). */
  async runDown(phase: 'stopping' | 'reconnecting', upSince: number | null): Promise<void> {
    if (!this.upRan) return;
    this.upRan = false;
    const cmd = this.config.hooks.down;
    if (!cmd || !this.facts().iface) return;
    const connectTimeS = upSince === null ? 0 : (performance.now() - upSince) / 1000;
    await runHook('down', cmd, this.env(phase, { connectTimeS }), {
      timeoutMs: this.config.hooks.timeoutMs,
      log: this.log,
    });
  }

  private env(phase: string, down?: { connectTimeS: number }): HookEnv {
    const f = this.facts();
    const i = f.iface;
    const cfg = this.config;
    const env: HookEnv = {
      name: cfg.name,
      ifname: i?.name ?? '',
      phase,
      localIp: i?.local4 ?? null,
      remoteIp: i?.peer4 ?? null,
      dns: f.dns,
      llLocal: i?.local6 ?? null,
      llRemote: i?.peer6 ?? null,
      peerName: null,
      device: `ssh:${cfg.ssh.host}:${cfg.ssh.port}`,
    };
    if (down) {
      const b = f.bytes();
      env.connectTimeS = down.connectTimeS;
      env.bytesSent = b.sent;
      env.bytesReceived = b.received;
    }
    return env;
  }
}
