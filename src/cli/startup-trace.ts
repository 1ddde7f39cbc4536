/**
 * Start-up stamps for the tunnel benchmark (bench/tunnel): with `TSVPN_STARTUP_TRACE=1`
 * in the environment, the CLI writes `startup-trace: <event> <wall ms>` lines to stderr,
 * wall ms = `performance.timeOrigin + performance.now()` (the clock of the benchmark's
 * spawn stamp), followed by `cpu <ms>`: the process's CPU time so far (all threads), which
 * a loaded machine skews far less than the wall clock. Events: `main` (the entry module is evaluated), `tcp-connect` (the first
 * TCP connect is started: the SYN) and `first-ssh-byte` (the first write on that socket:
 * ssh2 sends its identification line as soon as TCP is up). Off by default: nothing is
 * patched and nothing is written.
 */
import { Socket } from 'node:net';

function stamp(event: string): void {
  const wall = performance.timeOrigin + performance.now();
  const cpu = process.cpuUsage();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stderr.write(`startup-trace: ${event} ${wall.toFixed(3)} cpu ${cpuMs.toFixed(1)}\n`);
}

/** Starts the trace when the environment asks for it (once, in the entry module). */
export function startStartupTrace(): void {
  if (process.env.TSVPN_STARTUP_TRACE !== '1') return;
  stamp('main');
  // ssh2 connects with `new Socket().connect(…)`, which no diagnostics channel reports
  // on Node 20: look at the first TCP connect, then put the methods back.
  const proto = Socket.prototype;
  const connect = proto.connect;
  proto.connect = function (this: Socket, ...args: unknown[]) {
    const o = args[0];
    const tcp = typeof o === 'number' || (typeof o === 'object' && o !== null && 'port' in o);
    if (!tcp) return (connect as (...a: unknown[]) => Socket).apply(this, args);
    proto.connect = connect;
    stamp('tcp-connect');
    const r = (connect as (...a: unknown[]) => Socket).apply(this, args);
    // After connect(): it resets `this.write` to the prototype's.
    const write = this.write;
    this.write = function (this: Socket, ...w: unknown[]) {
      stamp('first-ssh-byte');
      this.write = write;
      return (write as (...a: unknown[]) => boolean).apply(this, w);
    } as Socket['write'];
    return r;
  } as Socket['connect'];
}
