import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '../../src/auth');

describe('src/auth is sans-IO', () => {
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    it(`${f} imports no node:* module and reads no clock or randomness`, () => {
      const src = readFileSync(join(dir, f), 'utf8');
      expect(src).not.toMatch(/from ['"]node:/);
      expect(src).not.toMatch(/Date\.now|Math\.random|setTimeout|setInterval/);
    });
  }
});
