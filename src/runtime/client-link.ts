/**
 * ClientLink: one attempt of `ts-vpn up` — one transport (the SSH exec channel)
 * carrying one LinkSession — and what the client logs about it. The tunnel
 * (ClientTunnel) owns the interface, routes and the reconnect decision; this file
 * turns the session's events into log lines and into calls on the tunnel, and
 * words why the link ended.
 */
import { performance } from 'node:perf_hooks';
import type { PeerConfig } from '../config/index.js';
import type { EngineEvent } from '../engine/index.js';
import { isRefusal, type LinkEndFacts, LinkSession } from '../link/index.js';
import type { CloseReason, Transport } from '../transport/types.js';
import type { DataPath } from './data-path.js';
import { clientEngineOptions } from './engine-options.js';
import type { FailureKind, TunnelError } from './errors.js';
import { escapeLogText } from './log-escape.js';
import type { Logger } from './logger.js';
import { guardEngineOptions, type RouteGuard } from './route-guard.js';

/** What a ClientLink needs from its tunnel. */
export interface ClientLinkHost {
  readonly log: Logger;
  readonly config: PeerConfig;
  /** The tunnel is shutting down. */
  readonly isClosing: boolean;
  /** The TUN device exists (after a reconnect). */
  readonly hasInterface: boolean;
  /** `refusal`: the far end refused us in a way retrying cannot fix (see isRefusal). */
  endLink(link: ClientLink, kind: FailureKind, message: string, refusal?: boolean): void;
  ipv4Up(link: ClientLink, local: string, peer: string, dns: string[]): void;
  ipv6Up(link: ClientLink, local: string, peer: string): void;
  echoRtt(ms: number): void;
}

const ms = (t: number) => `${Math.round(t)} ms`;

export class ClientLink {
  readonly session: LinkSession;
  /** Reaches `up` once the interface is configured (ClientTunnel sets it). */
  up = false;
  ended = false;
  /** Set when we decided the link is dead (echo failure, network change, reconnect request). */
  lossReason: string | null = null;
  /** Reconnect at once (no holdoff) when this link ends. */
  immediate = false;
  /** Resolves once the engine finished or the transport closed. */
  readonly finished: Promise<void>;
  /** Resolves when the tunnel is up over this link; rejects (TunnelError) when it ends before. */
  readonly ready: Promise<void>;
  private readonly routeGuard: RouteGuard | null;
  private markFinished!: () => void;
  private resolveUp!: () => void;
  private rejectUp!: (e: TunnelError) => void;

  constructor(
    private readonly host: ClientLinkHost,
    readonly id: number,
    readonly transport: Transport,
    /** The SSH server's address (null: local command transport). */
    readonly serverAddr: string | null,
    opts: {
      previousLocal: string | null;
      gso: boolean;
      data: DataPath;
      /** Routes read before this negotiation: far-end addresses inside them are refused. */
      routeGuard: RouteGuard | null;
    },
  ) {
    const cfg = host.config;
    this.routeGuard = opts.routeGuard;
    this.finished = new Promise<void>((r) => {
      this.markFinished = r;
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveUp = resolve;
      this.rejectUp = reject;
    });
    this.session = new LinkSession(transport, {
      engine: {
        ...guardEngineOptions(
          clientEngineOptions(cfg, (line) => this.engineLog(line), opts.previousLocal),
          opts.routeGuard,
        ),
        gso: opts.gso,
      },
      onIpPacket: (_v, pkt) => opts.data.onLinkPacket(pkt),
      onGsoFrame: (frame) => opts.data.onLinkGsoFrame(frame),
    });
    const s = this.session;
    transport.onStderr((line) => host.log.info(`remote: ${escapeLogText(line)}`));
    transport.onClose((r) => this.onTransportClose(r));
    s.on('event', (ev) => this.onEngineEvent(ev));
    s.on('finished', (f) => this.onFinished(f));
    s.on('echo-failure', (n) => {
      if (this.ended) return;
      // Do not wait for the Terminate-Request retries: the far end is gone.
      const why = `LCP: no reply to ${n} echo-requests`;
      this.lossReason = why;
      setImmediate(() => host.endLink(this, 'link-lost', why));
    });
  }

  start(): void {
    this.session.start();
  }

  /** The tunnel carries traffic over this link. */
  markUp(): void {
    this.up = true;
    this.session.markUp();
    this.resolveUp();
  }

  /** The link ended before it was up: start()/attempt() fails with this. */
  failUp(e: TunnelError): void {
    this.rejectUp(e);
  }

  /** The link is over: stop timers, close the transport. */
  stop(): void {
    this.session.stop();
    void this.transport.close();
  }

  private engineLog(line: string): void {
    const log = this.host.log;
    if (/^No response to \d+ echo-requests/.test(line) && !this.ended) {
      log.info(`ppp: ${line}`);
      return;
    }
    if (
      /finished|failed|terminated by peer|[Rr]eject for|not accepted|Could not|No response|own echo/.test(
        line,
      ) &&
      !line.startsWith('sent [') &&
      !line.startsWith('rcvd [')
    ) {
      log.info(`ppp: ${line}`);
    } else {
      log.debug(line);
    }
  }

  private onEngineEvent(ev: EngineEvent): void {
    const log = this.host.log;
    const s = this.session;
    const firstData = s.driver.firstDataAt;
    switch (ev.type) {
      case 'lcp-up':
        log.info(
          `ppp: LCP up (mru ${ev.mru}, peer mru ${ev.mtu}) in ${ms(performance.now() - s.t0)}${
            firstData === null ? '' : `; the far end answered after ${ms(firstData - s.t0)}`
          }${ev.gso ? '; TCP offload on (GSO frames)' : ''}`,
        );
        if (!ev.gso && this.host.config.tunnel.offload && !this.host.hasInterface)
          log.debug('ppp: the far end does not take GSO frames: TCP offload stays off');
        return;
      case 'auth-ok':
        log.info('ppp: authenticated to the far end');
        return;
      case 'auth-failed':
        log.error(`ppp: authentication failed: ${ev.message}`);
        return;
      case 'ipv4-up':
        log.info(
          `ppp: IPCP up: local ${ev.local} peer ${ev.peer}${ev.dns.length ? ` dns ${ev.dns.join(' ')}` : ''}${
            firstData === null
              ? ''
              : `; negotiation took ${ms(performance.now() - firstData)} from the far end's first frame`
          }`,
        );
        this.host.ipv4Up(this, ev.local, ev.peer, this.routeGuard?.filterDns(ev.dns) ?? ev.dns);
        return;
      case 'ipv6-up':
        log.info(`ppp: IPv6CP up: local ${ev.local} peer ${ev.peer}`);
        this.host.ipv6Up(this, ev.local, ev.peer);
        return;
      case 'ipv4-down':
        if (this.up && !this.host.isClosing) log.info('ppp: IPCP down');
        return;
      case 'echo-rtt':
        this.host.echoRtt(ev.rttMs);
        return;
      case 'down':
        if (!this.host.isClosing) log.info(`ppp: link down: ${ev.reason}`);
        return;
      default:
        return;
    }
  }

  private onFinished(f: LinkEndFacts): void {
    this.markFinished();
    const why =
      this.lossReason ??
      (f.authFailure
        ? `PPP authentication failed: ${f.authFailure}`
        : f.cause === 'no-network-protocol' || f.cause === 'negotiation-timeout'
          ? `PPP negotiation failed: ${f.reason}`
          : f.peerTerminated !== null
            ? `the far end closed the link${f.peerTerminated ? `: ${f.peerTerminated}` : ''}`
            : `PPP link finished: ${f.reason}`);
    this.host.endLink(this, this.up ? 'link-lost' : 'ppp', why, isRefusal(f));
  }

  private onTransportClose(r: CloseReason): void {
    // Decide with the transport's reason first: lowerDown() would report a bare
    // "lower layer down" through the engine's `finished` event.
    this.markFinished();
    if (this.ended) return;
    // Our side (not the far end) was already ending the link (no network protocol could come up):
    // the engine's finish keeps that cause and its reason, which say more than the transport's.
    if (!this.up && this.session.phase === 'terminate' && this.session.peerTerminated === null) {
      this.session.lowerDown();
      if (this.ended) return;
    }
    const host = this.host;
    const peerTerminated = this.session.peerTerminated;
    const authFailure = this.session.authFailure;
    if (this.up) {
      host.endLink(this, 'link-lost', this.lossReason ?? r.message);
    } else if (authFailure !== null) {
      host.endLink(this, 'ppp', `PPP authentication failed: ${authFailure}`, true);
    } else if (r.code === 'SSH_CLOSED' || r.code === 'ERROR') {
      host.endLink(this, 'connect', `${r.message} (before PPP came up)`);
    } else if (peerTerminated) {
      const refusal = isRefusal(this.session.facts(r.message));
      host.endLink(this, 'ppp', `the far end refused the link: ${peerTerminated}`, refusal);
    } else {
      host.endLink(this, 'ppp', `the far end ended before PPP came up: ${r.message}`);
    }
    this.session.engine.lowerDown(performance.now());
  }
}
