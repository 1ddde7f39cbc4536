/** /proc/PID/status (or one thread's, /proc/PID/task/TID/status) as fields: `Uid`, `CapEff`, … */
import { readFileSync } from 'node:fs';

export function procStatus(pid: number, task?: string): Record<string, string> {
  const path = task ? `/proc/${pid}/task/${task}/status` : `/proc/${pid}/status`;
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}
