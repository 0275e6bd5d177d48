/**
 * The clock. In production it is the system clock. With TEST_CLOCK=1 (refused in production by
 * config.ts) it is the system clock plus an offset read from DATA_DIR/test-clock-offset-ms, so that
 * browser tests can move time forward (a ticket going overdue) without waiting.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';

export function createClock(config: Pick<Config, 'testClock' | 'dataDir'>): () => Date {
  if (!config.testClock) return () => new Date();
  const file = path.join(config.dataDir, 'test-clock-offset-ms');
  let offset = 0;
  let readAt = 0;
  return () => {
    const now = Date.now();
    if (now - readAt > 250) {
      readAt = now;
      try {
        offset = Number(fs.readFileSync(file, 'utf8').trim()) || 0;
      } catch {
        offset = 0;
      }
    }
    return new Date(now + offset);
  };
}
