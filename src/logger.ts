import { pino, type Logger } from 'pino';
import type { Config } from './config.ts';

/** Structured JSON logs (pino). */
export function createLogger(config: Pick<Config, 'logLevel' | 'env'>): Logger {
  return pino({ level: config.env === 'test' ? 'silent' : config.logLevel, base: { app: 'tessera' } });
}
