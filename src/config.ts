/**
 * The only reader of process.env. One zod schema; every key is documented in README.md.
 * A bad or missing value stops the process with one line naming the variable (see server.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { z } from 'zod';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
const port = z.coerce.number().int().min(0).max(65535);

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** mysql://user:pass@host:3306/db, or sqlite:relative/or/absolute/path.sqlite. Empty: ./data/tessera.sqlite */
  DATABASE_URL: z.string().optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Public base URL used in links in mail; never the request's Host header. */
  PUBLIC_URL: z.url().optional(),
  /** smtp://user:pass@host:587 or smtps://…; empty = mail waits in the outbox. */
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional(),
  MAIL_FROM: z.string().optional(),
  /** Port of the built-in inbound SMTP listener; 0 or empty = off. */
  INBOUND_SMTP_PORT: port.optional(),
  INBOUND_SMTP_HOST: z.string().default('0.0.0.0'),
  /** imap://user:pass@host:143/INBOX or imaps://…; empty = no IMAP polling. */
  IMAP_URL: z.string().regex(/^imaps?:\/\//, 'must start with imap:// or imaps://').optional(),
  IMAP_POLL_SECONDS: z.coerce.number().int().min(5).default(60),
  /** Express "trust proxy" value: empty (off), a hop count, or a comma list of addresses. */
  TRUST_PROXY: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Disable the background worker (jobs, outbox, overdue marking) in this process. */
  JOBS_DISABLED: bool.default(false),
  /** HTTP worker processes (node:cluster); 1 = one process does everything (server.ts). */
  WEB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** Test-only: lets e2e tests move the clock. Refused when NODE_ENV=production. */
  TEST_CLOCK: bool.default(false),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  dataDir: string;
  database: { client: 'sqlite'; filename: string } | { client: 'mysql'; url: string };
  sessionSecret: string;
  publicUrl: string;
  smtpUrl?: string;
  mailFrom?: string;
  inboundSmtp?: { port: number; host: string };
  imap?: { url: string; pollSeconds: number };
  trustProxy?: string | number | boolean;
  logLevel: Env['LOG_LEVEL'];
  jobsDisabled: boolean;
  webConcurrency: number;
  testClock: boolean;
}

export class ConfigError extends Error {}

/** Parses and validates the environment. @throws ConfigError with one line naming the variable. */
export function loadConfig(raw: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`Invalid configuration: ${issue.path.join('.')} ${issue.message}`);
  }
  const env = parsed.data;
  if (env.NODE_ENV === 'production' && !env.SESSION_SECRET) {
    throw new ConfigError('Invalid configuration: SESSION_SECRET is required when NODE_ENV=production');
  }
  if (env.NODE_ENV === 'production' && env.TEST_CLOCK) {
    throw new ConfigError('Invalid configuration: TEST_CLOCK is refused when NODE_ENV=production');
  }
  const dataDir = path.resolve(env.DATA_DIR);
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    dataDir,
    database: parseDatabaseUrl(env.DATABASE_URL, dataDir),
    sessionSecret: env.SESSION_SECRET ?? developmentSecret(dataDir),
    publicUrl: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM,
    inboundSmtp: env.INBOUND_SMTP_PORT ? { port: env.INBOUND_SMTP_PORT, host: env.INBOUND_SMTP_HOST } : undefined,
    imap: env.IMAP_URL ? { url: env.IMAP_URL, pollSeconds: env.IMAP_POLL_SECONDS } : undefined,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    logLevel: env.LOG_LEVEL,
    jobsDisabled: env.JOBS_DISABLED,
    webConcurrency: env.WEB_CONCURRENCY,
    testClock: env.TEST_CLOCK,
  };
}

function parseDatabaseUrl(url: string | undefined, dataDir: string): Config['database'] {
  if (!url) return { client: 'sqlite', filename: path.join(dataDir, 'tessera.sqlite') };
  if (/^mysql2?:\/\//.test(url)) return { client: 'mysql', url: url.replace(/^mysql2:/, 'mysql:') };
  if (url.startsWith('sqlite:')) return { client: 'sqlite', filename: path.resolve(url.slice('sqlite:'.length)) };
  throw new ConfigError('Invalid configuration: DATABASE_URL must start with mysql:// or sqlite:');
}

function parseTrustProxy(v: string | undefined): Config['trustProxy'] {
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  if (v === 'true') return true;
  if (v === 'false') return undefined;
  return v;
}

/** In development a secret is generated once and kept under DATA_DIR so sessions survive restarts. */
function developmentSecret(dataDir: string): string {
  const file = path.join(dataDir, 'session-secret');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(dataDir, { recursive: true });
    const secret = crypto.randomBytes(48).toString('base64url');
    fs.writeFileSync(file, secret, { mode: 0o600 });
    return secret;
  }
}
