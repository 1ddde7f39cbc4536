/**
 * The corpus of malformed and dangerous configs in bad/: each file's first line is
 * `# expect: <substring of the error>`; files starting `server-` are server.yaml
 * files; a `# load` line means the check needs the filesystem or DNS (loader).
 * `__TMP__` is replaced by a fixture directory holding key-0600, key-0644,
 * secret-0600, secret-0640 and known_hosts. A `# line: N` line asserts that the
 * error names the file and that line (`file.yaml:N`). A file that is not valid
 * UTF-8 is loaded byte for byte.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadPeerConfig,
  loadServerConfig,
  parsePeerConfig,
  parseServerConfig,
} from '../../src/config/index.js';
import { ENV, type Fixture, fakeResolver, makeFixture } from './fixtures.js';

const BAD = join(import.meta.dirname, 'bad');
const files = readdirSync(BAD)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('bad configs are rejected with a specific message', () => {
  let fx: Fixture;
  beforeAll(() => {
    fx = makeFixture();
  });
  afterAll(() => fx.cleanup());

  it('has at least 30 cases', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  for (const file of files) {
    it(file, async () => {
      const bytes = readFileSync(join(BAD, file));
      const raw = bytes.toString('utf8');
      const m = /^# expect: (.+)$/m.exec(raw.split('\n')[0]);
      expect(m, `${file} must start with "# expect: ..."`).not.toBeNull();
      const server = file.startsWith('server-');
      const load = /^# load$/m.test(raw);
      const text = raw.replaceAll('__TMP__', fx.dir);
      const expected = (m as RegExpExecArray)[1].replaceAll('__TMP__', fx.dir);
      let err: unknown;
      try {
        if (load) {
          const p = fx.write(file, raw.includes('\ufffd') ? bytes : text, 0o644);
          if (server) await loadServerConfig(p, { env: fx.env });
          else await loadPeerConfig(p, { env: fx.env, resolve: fakeResolver });
        } else if (server) parseServerConfig(text, file, ENV);
        else parsePeerConfig(text, file, ENV);
      } catch (e) {
        err = e;
      }
      expect(err, `${file} was accepted`).toBeInstanceOf(ConfigError);
      const ce = err as ConfigError;
      expect(ce.message).toContain(expected);
      expect(ce.exitCode).toBe(2);
      expect(ce.code).toBe('CONFIG_INVALID');
      expect(ce.issues.length).toBeGreaterThan(0);
      for (const i of ce.issues) expect(i.message.length).toBeGreaterThan(5);
      const line = /^# line: (\d+)$/m.exec(raw);
      if (line) {
        expect(ce.issues.map((i) => i.line)).toContain(Number(line[1]));
        expect(ce.message).toMatch(new RegExp(`${file.replaceAll('.', '\\.')}:${line[1]}[ :]`));
      }
    });
  }
});
