/**
 * Control socket of a running tunnel: a Unix stream socket, root-only (0600 inside a
 * 0700 directory), speaking one JSON request per line and one JSON reply per line.
 *
 *   → {"cmd":"status"}          ← {"ok":true,"status":{…}}
 *   → {"cmd":"down"}            ← {"ok":true}
 *   → {"cmd":"reconnect"}       ← {"ok":true}
 *   → {"cmd":"debug","on":true} ← {"ok":true}
 *
 * Requests are bounded (4 KiB a line, 8 connections); anything else is refused.
 */
import { chmodSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface ControlRequest {
  cmd: string;
  [key: string]: unknown;
}
export type ControlHandler = (req: ControlRequest) => Promise<unknown> | unknown;

const MAX_LINE = 4096;
const MAX_CONNECTIONS = 8;

export class ControlServer {
  private readonly server: Server;
  private readonly path: string;
  private readonly sockets: Set<Socket>;

  private constructor(path: string, server: Server, sockets: Set<Socket>) {
    this.path = path;
    this.server = server;
    this.sockets = sockets;
  }

  static async listen(path: string, handler: ControlHandler): Promise<ControlServer> {
    rmSync(path, { force: true });
    const sockets = new Set<Socket>();
    const server = createServer((sock) => {
      if (sockets.size >= MAX_CONNECTIONS) {
        sock.end(`${JSON.stringify({ ok: false, error: 'too many control connections' })}\n`);
        return;
      }
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      sock.on('error', () => sock.destroy());
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('data', (chunk: string) => {
        buf += chunk;
        if (buf.length > MAX_LINE) {
          sock.end(`${JSON.stringify({ ok: false, error: 'request too long' })}\n`);
          return;
        }
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          void answer(sock, line, handler);
          nl = buf.indexOf('\n');
        }
      });
    });
    server.maxConnections = MAX_CONNECTIONS * 2;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    server.unref();
    return new ControlServer(path, server, sockets);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}

async function answer(sock: Socket, line: string, handler: ControlHandler): Promise<void> {
  let reply: unknown;
  try {
    const req = JSON.parse(line) as ControlRequest;
    if (typeof req !== 'object' || req === null || typeof req.cmd !== 'string') {
      throw new Error('request must be a JSON object with a "cmd" string');
    }
    reply = { ok: true, ...((await handler(req)) as object | undefined) };
  } catch (err) {
    reply = { ok: false, error: (err as Error).message };
  }
  if (!sock.destroyed) sock.write(`${JSON.stringify(reply)}\n`);
}

/** Sends one request to a control socket and returns the parsed reply. */
export function controlRequest(
  path: string,
  req: ControlRequest,
  timeoutMs = 5000,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        sock.end();
        try {
          resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        } catch (err) {
          reject(err);
        }
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
