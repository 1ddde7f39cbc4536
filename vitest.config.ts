import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ if needed, then packs and installs the package once per run: the CLI
    // and e2e tests run that installed `ts-vpn` (test/support/installed.ts).
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Namespace/sshd tests are heavy; two workers match the 2-core CI machine.
    maxWorkers: 2,
  },
});
