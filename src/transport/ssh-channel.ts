/**
 * One ssh2 channel (an `exec` of the remote command, or a direct-streamlocal channel to a
 * gateway's socket) as a Transport: 8-bit clean data both ways, the remote stderr as lines,
 * and a close reason that tells a remote exit from a lost connection.
 */
import type { Client, ClientChannel } from 'ssh2';
import { BaseTransport, LineSplitter } from './base.js';
import type { CloseReason, TransportInfo } from './types.js';

/** What a channel needs of its connection (SshConnection has it). */
export interface SshChannelOwner {
  readonly client: Client;
  readonly info: TransportInfo;
  /** Ends the connection (and the jump hosts below it). */
  end(): Promise<void>;
}

/** An ssh2 channel as a Transport. Made by `SshConnection.exec` (or `openSshTransport`) and `openGatewayChannel`. */
export class SshTransport extends BaseTransport {
  readonly info: TransportInfo;
  private flowAttached = false;
  private localClose = false;
  private closing: Promise<void> | null = null;
  private exit: { code?: number; signal?: string } | null = null;
  private channelClosed = false;
  private connClosed = false;
  private readonly stderrLines: LineSplitter;

  constructor(
    readonly connection: SshChannelOwner,
    private readonly channel: ClientChannel,
    command: string,
    private readonly ownsConnection: boolean,
    private readonly closeGraceMs: number,
    private readonly connError: { err: Error | null },
  ) {
    super();
    this.info = { ...connection.info, command };
    this.stderrLines = new LineSplitter((l) => this.emitStderr(l));
    channel.stderr.on('data', (d: Buffer) => this.stderrLines.push(d));
    channel.on('drain', () => this.emit('drain'));
    channel.on('exit', (code: number | null, signal?: string) => {
      this.exit =
        code !== null && code !== undefined
          ? { code }
          : { signal: signal ? (signal.startsWith('SIG') ? signal : `SIG${signal}`) : 'unknown' };
      // The channel only closes once its readable side is consumed: drain what is left
      // (to the data listeners if any, else nowhere).
      this.channel.resume();
    });
    channel.on('error', (err: Error) => {
      this.connError.err ??= err;
    });
    channel.on('close', () => {
      this.channelClosed = true;
      this.stderrLines.flush();
      this.onChannelClose();
    });
    const client = connection.client;
    client.on('close', () => {
      this.connClosed = true;
      if (!this.channelClosed) this.stderrLines.flush();
      this.finish(this.reasonNow(true));
    });
  }

  private onChannelClose(): void {
    if (this.ownsConnection && !this.connClosed) {
      // Finish once the connection is gone too, so a caller that reconnects never overlaps.
      void this.connection.end().then(() => this.finish(this.reasonNow(false)));
    } else {
      this.finish(this.reasonNow(false));
    }
  }

  private reasonNow(connectionLost: boolean): CloseReason {
    const exitPart = this.exit
      ? this.exit.code !== undefined
        ? { exitCode: this.exit.code }
        : { signal: this.exit.signal }
      : {};
    if (this.localClose) return { code: 'LOCAL', message: 'closed locally', ...exitPart };
    if (this.exit && this.channelClosed) {
      const how =
        this.exit.code !== undefined
          ? `with code ${this.exit.code}`
          : `on signal ${this.exit.signal}`;
      return {
        code: 'EXIT',
        message: `remote command exited ${how}${this.lastStderr()}`,
        ...exitPart,
      };
    }
    if (connectionLost && !this.channelClosed) {
      const e = this.connError.err;
      const msg = e
        ? /keepalive/i.test(e.message)
          ? `SSH connection lost: no reply to keepalive (${this.info.remote})`
          : `SSH connection lost: ${e.message}`
        : `SSH connection closed by ${this.info.remote}`;
      return { code: 'SSH_CLOSED', message: msg, ...(e ? { error: e } : {}) };
    }
    return { code: 'EOF', message: `remote closed the channel${this.lastStderr()}` };
  }

  write(chunk: Uint8Array): boolean {
    if (this.closing || !this.channel.writable) return false;
    return this.writeCounted(this.channel, chunk);
  }

  /**
   * `write` for a chunk valid only during the call (LinkDriver's framing buffer): when the
   * channel has nothing queued and its window takes the whole chunk, ssh2 copies it into
   * its packets before returning (Channel._write → channelData); otherwise the channel
   * would keep it, so it gets a copy.
   */
  writeView(chunk: Uint8Array): boolean {
    const ch = this.channel as unknown as {
      writableLength: number;
      writableCorked: number;
      outgoing?: { state?: string; window?: number };
    };
    const o = ch.outgoing;
    const sentNow =
      ch.writableLength === 0 &&
      ch.writableCorked === 0 &&
      o?.state === 'open' &&
      (o.window ?? 0) >= chunk.length;
    return this.write(sentNow ? chunk : chunk.slice());
  }

  protected startFlow(): void {
    if (!this.flowAttached) {
      this.flowAttached = true;
      this.channel.on('data', (d: Buffer) => this.emitData(d));
    }
    this.channel.resume();
  }

  protected stopFlow(): void {
    this.channel.pause();
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (!this.closeReason) this.localClose = true;
    this.closing = (async () => {
      if (!this.channelClosed && !this.connClosed) {
        // EOF (after queued data), give the remote command a moment to exit, then close.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, this.closeGraceMs);
          this.channel.once('close', done);
          function done() {
            clearTimeout(timer);
            resolve();
          }
          try {
            this.channel.resume(); // see 'exit': unread data would hold the close back
            this.channel.end();
          } catch {
            done();
          }
        });
        if (!this.channelClosed) {
          try {
            this.channel.close();
          } catch {
            /* connection already gone */
          }
        }
      }
      if (this.ownsConnection) await this.connection.end();
      this.finish(this.reasonNow(false));
    })();
    return this.closing;
  }
}
