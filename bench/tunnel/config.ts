/**
 * The tunnel benchmark's settings, in one place: the env knobs (documented in run.ts), the
 * lab's fixed names, ports and addresses, and the two helpers every part uses (progress
 * lines on stderr, sleep).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const QUICK = process.env.BENCH_QUICK === '1';
export const RUNS = QUICK ? 1 : Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
export const SECONDS = QUICK ? 1 : Math.max(1, Number(process.env.BENCH_SECONDS ?? 5));
export const PINGS = QUICK ? 10 : Math.max(3, Number(process.env.BENCH_PINGS ?? 50));
export const SOAK = QUICK ? 0 : Math.max(0, Number(process.env.BENCH_SOAK_SECONDS ?? 300));
export const NICE = Number(process.env.BENCH_NICE ?? -10);
/** BENCH_SMAPS=1: sample both ts-vpn ends' smaps during each transfer and print the peak's breakdown. */
export const SMAPS = process.env.BENCH_SMAPS === '1';
export const ONLY = new Set(
  (process.env.BENCH_ONLY ?? 'raw,sshw,tsvpn').split(',').map((s) => s.trim()),
);
export const CIPHER = 'aes128-gcm@openssh.com';
export const PREFIX = 'tvb-';
export const SSH_PORT = 2222;
export const IPERF_PORT = 5201;
export const NET = { cli: '198.18.0.1', srv: '198.18.0.2' };
export const SSHW = { cli: '198.19.1.1', srv: '198.19.1.2' };

export const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
