/** The examples (and so the README's library example) run and print what they promise. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

async function example(name: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${name}`], {
    cwd: root,
    timeout: 20_000,
  });
  return stdout;
}

describe('examples', () => {
  it('library-socketpair.ts (the README example) negotiates, echoes a packet and closes', async () => {
    const out = await example('library-socketpair.ts');
    expect(out).toBe(
      [
        'client: up, local 10.0.0.2 peer 10.0.0.1 dns 10.0.0.53 mtu 1500',
        'server: IPv4 packet, 28 bytes',
        'client: echo IPv4, 28 bytes: hi ppp!!',
        'client: closed (CLOSED), sent 1 received 1',
        '',
      ].join('\n'),
    );
  }, 30_000);

  it('library-two-processes.ts runs PPP over a child process stdio', async () => {
    const out = await example('library-two-processes.ts');
    expect(out).toMatch(
      /^up: local 192\.168\.77\.2 peer 192\.168\.77\.1 \(child pid \d+\)\necho: 01020304\nclosed; child exited with code 0\n$/,
    );
  }, 30_000);

  it('library-tcp-server.ts serves three clients from an address pool', async () => {
    const out = await example('library-tcp-server.ts');
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(4);
    const locals = lines
      .slice(0, 3)
      .map((l) => /^client \d: (10\.77\.0\.\d) ← echo reply from 10\.77\.0\.1 \(/.exec(l)?.[1]);
    expect(locals.sort()).toEqual(['10.77.0.2', '10.77.0.3', '10.77.0.4']);
    expect(lines[3]).toBe('done');
  }, 30_000);

  it('library-sans-io.ts drives two engines with a fake clock', async () => {
    const out = await example('library-sans-io.ts');
    expect(out).toBe(
      [
        'a: IPCP up at t=3000 ms, local 10.1.0.1 peer 10.1.0.2',
        'b: IPCP up at t=3000 ms, local 10.1.0.2 peer 10.1.0.1',
        'b received IPv4 packet of 20 bytes at t=3000 ms',
        't=6000 ms: a: phase dead, b: phase dead',
        '',
      ].join('\n'),
    );
  }, 30_000);
});

describe('docs/LIBRARY.md', () => {
  it('the README section shows examples/library-socketpair.ts verbatim (import from ts-vpn)', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(`${root}docs/LIBRARY.md`, 'utf8');
    const section = doc.split('## README section\n')[1] ?? '';
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    const file = await readFile(`${root}examples/library-socketpair.ts`, 'utf8');
    const expected = file
      .replace(/^\/\*\*[\s\S]*?\*\/\n/, '')
      .replace("'../src/api/index.js'", "'ts-vpn'");
    expect(block).toBe(expected);
  });

  it('README.md carries the same Library section', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(`${root}README.md`, 'utf8');
    const doc = await readFile(`${root}docs/LIBRARY.md`, 'utf8');
    const section = (doc.split('## README section\n')[1] ?? '')
      .replace('### Library', '## Library')
      .trim();
    expect(section.length).toBeGreaterThan(100);
    expect(readme).toContain(section);
  });
});
