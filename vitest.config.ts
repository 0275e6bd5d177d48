import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/{unit,services,http,migrations,mail,cli}/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: { NODE_ENV: 'test', TZ: process.env.TZ ?? 'UTC' },
  },
});
