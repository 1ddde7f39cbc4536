/**
 * The byte stream that carries PPP to the far end (an ssh2 exec channel, a local
 * command's pipes, or our own stdin/stdout when running as `ts-vpn serve`).
 *
 * Bytes are opaque: transports never look inside them, never add or strip anything
 * and never split or merge on any boundary the caller could rely on.
 */

/** Why a transport closed. */
export type CloseCode =
  /** The far end closed its output (channel EOF, command stdout EOF, our stdin EOF). */
  | 'EOF'
  /** The SSH connection went away (socket closed, keepalive timeout, disconnect). */
  | 'SSH_CLOSED'
  /** The remote/local command exited (`exitCode` or `signal` set). */
  | 'EXIT'
  /** A local or remote error (see `error`). */
  | 'ERROR'
  /** We closed it ourselves with `close()`. */
  | 'LOCAL';

export interface CloseReason {
  code: CloseCode;
  /** One line for the log, e.g. `remote command exited with code 3: sudo: pppd: command not found`. */
  message: string;
  exitCode?: number;
  /** Signal name, `SIGTERM` style (ssh and local commands alike). */
  signal?: string;
  /** The typed error behind an `ERROR`/`SSH_CLOSED`, when there is one. */
  error?: Error;
}

export interface TransportInfo {
  kind: 'ssh' | 'command' | 'stdio';
  /** `user@host:port` for ssh, the command line for command, `stdio` for stdio. */
  remote: string;
  /** Negotiated client→server cipher (ssh only), e.g. `aes128-gcm@openssh.com`. */
  cipher?: string;
  /** Negotiated MAC (empty for AEAD ciphers), kex and host key algorithm (ssh only). */
  mac?: string;
  kex?: string;
  hostKeyAlgorithm?: string;
  /** `SHA256:…` of the server's host key (ssh only). */
  hostKeyFingerprint?: string;
  /** How the host key was accepted: `known_hosts <file>:<line>`, `pinned`, `accept-new`. */
  hostKeyVerifiedBy?: string;
  /** Server identification, e.g. `OpenSSH_9.2p1`. */
  serverSoftware?: string;
  /** TCP connect time, key exchange time (connect → keys in use), authentication time (ms). */
  connectMs?: number;
  handshakeMs?: number;
  authMs?: number;
  /** The command run at the far end (ssh) or locally (command). */
  command?: string;
  /** Local child pid (command only). */
  pid?: number;
}

export type DataListener = (chunk: Uint8Array) => void;

export interface Transport {
  readonly info: TransportInfo;
  /** Resolves once, with the reason, when the stream is finished for good. Never rejects. */
  readonly closed: Promise<CloseReason>;
  /** The close reason once closed, else null. */
  readonly closeReason: CloseReason | null;
  /**
   * Queues `chunk` for the far end. Ownership passes to the transport: do not modify the
   * bytes afterwards. Returns false when the caller should wait for 'drain' before writing
   * more (the chunk itself is still queued), and after close (the chunk is dropped).
   */
  write(chunk: Uint8Array): boolean;
  /** Received bytes. Data starts flowing when the first listener is added. */
  onData(cb: DataListener): this;
  onDrain(cb: () => void): this;
  /** Diagnostic lines from the far end (ssh channel stderr, command stderr), without newline. */
  onStderr(cb: (line: string) => void): this;
  onClose(cb: (reason: CloseReason) => void): this;
  on(event: 'data', cb: DataListener): this;
  on(event: 'drain', cb: () => void): this;
  on(event: 'stderr', cb: (line: string) => void): this;
  on(event: 'close', cb: (reason: CloseReason) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: listener of any of the events above
  off(event: 'data' | 'drain' | 'stderr' | 'close', cb: (...args: any[]) => void): this;
  /** Stop/restart delivering 'data' (receive-side backpressure). */
  pause(): void;
  resume(): void;
  /** Bytes written/received so far. */
  readonly stats: { bytesOut: number; bytesIn: number; writes: number; backpressured: number };
  /**
   * Ends the stream: EOF to the far end, then tear down what this transport started
   * (channel and connection, child process group). Resolves when everything is gone.
   * Idempotent; the close reason is `LOCAL` unless the stream had already closed.
   */
  close(): Promise<void>;
}
