/**
 * vitest globalSetup: builds dist/ if src/ is newer, then packs and installs the package
 * once for the whole run (test/support/installed.ts) and passes its bin to every test
 * worker in TS_VPN_TEST_CLI (workers inherit this process's environment).
 */
import { ensureBuilt } from '../e2e/ensure-built.js';
import { ensureInstalled, INSTALLED_CLI_ENV } from './installed.js';

export default async function setup(): Promise<void> {
  await ensureBuilt();
  const t0 = Date.now();
  const inst = await ensureInstalled();
  process.env[INSTALLED_CLI_ENV] = inst.bin;
  if (!inst.reused)
    process.stderr.write(
      `test setup: packed and installed ts-vpn into ${inst.prefix} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`,
    );
}
