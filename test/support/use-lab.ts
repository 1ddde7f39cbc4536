/**
 * One lab per describe block: built before the first test (after making sure dist/
 * is current), destroyed after the last. Returns a stand-in that forwards to the lab
 * once it exists, so tests write `lab.cli`, `lab.startUp()` as usual.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { ensureBuilt } from '../e2e/ensure-built.js';
import { createLab, type Lab, type LabOptions } from './lab.js';

export function useLab(opts?: LabOptions): Lab {
  let lab: Lab | null = null;
  beforeAll(async () => {
    await ensureBuilt();
    lab = await createLab(opts);
  }, 120_000);
  // A test that fails half-way leaves its tunnels running: stop them, or the next
  // test finds their interfaces and routes.
  afterEach(async () => {
    await lab?.killUps();
  });
  afterAll(async () => {
    await lab?.destroy();
  });
  return new Proxy({} as Lab, {
    get(_target, key) {
      if (lab === null) throw new Error(`lab.${String(key)} used before the lab was created`);
      return lab[key as keyof Lab];
    },
  });
}
