/** Test side of the TUN agent (fixtures/tun-agent.ts): spawn in a namespace, call ops, await exit. */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nsSpawn } from '../support/netns.js';

const AGENT = fileURLToPath(new URL('./fixtures/tun-agent.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export class AgentError extends Error {
  constructor(
    readonly code: string | undefined,
    readonly errno: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export class TunAgent {
  readonly proc: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private buf = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: string | null; at: number }>;

  /** `reader`: the TunDevice reader every device of this agent uses (default: the library's). */
  constructor(ns: string, reader?: 'loop' | 'worker') {
    const env = { ...process.env };
    if (reader) env.TUN_TEST_READER = reader;
    else delete env.TUN_TEST_READER;
    this.proc = nsSpawn(ns, process.execPath, ['--import', 'tsx', AGENT], {
      cwd: ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    this.proc.stdout?.setEncoding('utf8');
    this.proc.stdout?.on('data', (d: string) => {
      this.buf += d;
      let nl = this.buf.indexOf('\n');
      while (nl >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        nl = this.buf.indexOf('\n');
        const msg = JSON.parse(line) as {
          id: number;
          ok: boolean;
          result?: unknown;
          error?: { code?: string; errno?: string; message: string };
        };
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.ok) p?.resolve(msg.result);
        else
          p?.reject(
            new AgentError(msg.error?.code, msg.error?.errno, msg.error?.message ?? 'agent error'),
          );
      }
    });
    this.proc.stderr?.on('data', (d) => {
      this.stderr += d;
    });
    void this.exited.then(() => {
      for (const p of this.pending.values())
        p.reject(new Error(`agent exited; stderr: ${this.stderr}`));
      this.pending.clear();
    });
  }

  call<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.stdin?.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  /** NetConfig method call inside the namespace. */
  nc<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    return this.call<T>('nc', { method, args });
  }

  /** Kills the agent if still running (by pid; only in cleanup paths). */
  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}
