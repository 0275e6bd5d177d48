/** The CLI commands. Each is thin: parse options, call one service, print. */
import type { Knex } from 'knex';
import type { Config } from '../config.ts';
import type { ServiceContext } from '../domain/context.ts';
import { createAdministrator } from '../domain/auth/agent-auth-service.ts';
import { createApiKey } from '../domain/api-keys/api-key-service.ts';
import { migrateLatest } from '../db/knex.ts';
import { seedDemo, SeedRefused } from '../../seeds/demo-seed.ts';
import { processInboundMail } from '../domain/mail/inbound-service.ts';
import { indexAllPending, INDEX_BATCH } from '../domain/tickets/ticket-search-index.ts';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  readStdin: () => Promise<string>;
  /** Standard input as bytes (mail is 8-bit); defaults to reading process.stdin. */
  readStdinBytes?: () => Promise<Buffer>;
  prompt: (q: string, hidden?: boolean) => Promise<string>;
}
export interface CliRun {
  ctx: ServiceContext;
  db: Knex;
  config: Config;
  values: Record<string, any>;
  io: CliIo;
}
export interface CliCommand {
  usage: string;
  summary: string;
  help: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>;
  run: (r: CliRun) => Promise<number>;
}

export const cliCommands: Record<string, CliCommand> = {
  'mail:pipe': {
    usage: 'mail:pipe < message.eml',
    summary: 'File one email (RFC 822, from standard input) as a new ticket or a reply.',
    help: '  For an MTA pipe (aliases: "support: |tessera mail:pipe"). Exit codes follow sysexits:\n  0 filed or ignored (duplicate, bounce), 65 malformed or refused, 77 banned or rate-limited,\n  75 temporary failure (the MTA keeps the message and retries).',
    options: {},
    async run({ ctx, io }) {
      const raw = io.readStdinBytes ? await io.readStdinBytes() : await readProcessStdin();
      try {
        const r = await processInboundMail(ctx, raw, 'pipe');
        io.out(`${r.outcome}${r.ticketNumber ? ` #${r.ticketNumber}` : ''}${r.reason ? ` (${r.reason})` : ''}`);
        if (r.outcome !== 'rejected') return 0;
        return r.reason === 'banned' || r.reason === 'rate_limited' ? 77 : 65;
      } catch (err) {
        io.err(`Temporary failure: ${(err as Error)?.message ?? err}`);
        return 75;
      }
    },
  },
  migrate: {
    usage: 'migrate',
    summary: 'Apply pending database migrations.',
    help: '',
    options: {},
    async run({ db, io }) {
      const applied = await migrateLatest(db);
      io.out(applied.length ? `Applied ${applied.length} migration(s).` : 'Database is up to date.');
      return 0;
    },
  },
  'search:index': {
    usage: 'search:index',
    summary: 'Index the search words (subject, requester name) of every ticket not indexed yet (after an upgrade), now.',
    help: '  The background task of a running help desk does the same, 20,000 tickets every 2 seconds;\n  until a ticket is indexed, a search still finds it (by testing its subject).',
    options: {},
    async run({ db, io }) {
      const started = Date.now();
      const n = await indexAllPending(db, Infinity, (done) => { if (done % 50_000 < INDEX_BATCH) io.out(`${done.toLocaleString('en')} indexed…`); });
      io.out(n ? `Indexed ${n.toLocaleString('en')} ticket(s) in ${((Date.now() - started) / 1000).toFixed(1)} s.` : 'Every ticket is indexed.');
      return 0;
    },
  },
  'create-admin': {
    usage: 'create-admin [--username U --email E --name N --password-stdin]',
    summary: 'Create an administrator (interactive, or scripted).',
    help: '  --username, --email, --name   the new administrator\n  --password-stdin              read the password from standard input (scripted use)',
    options: { username: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
    async run({ ctx, values, io }) {
      const scripted = values['password-stdin'];
      const username = values.username ?? (scripted ? undefined : await io.prompt('Username: '));
      const email = values.email ?? (scripted ? undefined : await io.prompt('Email: '));
      const name = values.name ?? (scripted ? undefined : await io.prompt('Full name: '));
      if (scripted && (!username || !email || !name)) {
        io.err('With --password-stdin, give --username, --email and --name too.');
        return 2;
      }
      const password = scripted ? (await io.readStdin()).replace(/\r?\n$/, '') : await io.prompt('Password (at least 10 characters): ', true);
      const agent = await createAdministrator(ctx, { username, email, name, password }, { onlyFirst: false });
      io.out(`Administrator '${username}' created (id ${agent.id}). Sign in at ${ctx.publicUrl}/scp`);
      return 0;
    },
  },
  'seed:demo': {
    usage: 'seed:demo [--password P] [--force]',
    summary: 'Load the practice-lab demo data and print the demo agents’ passwords.',
    help: '  --password P   give every demo agent this password (scripted demos and tests)\n  --force        load even if demo agents or tickets already exist',
    options: { password: { type: 'string' }, force: { type: 'boolean' } },
    async run({ db, values, io }) {
      try {
        const accounts = await seedDemo(db, { password: values.password, force: values.force });
        io.out('Demo data loaded. Demo accounts (for practice only, never in production):');
        for (const a of accounts) io.out(`  ${a.username.padEnd(8)} ${a.password.padEnd(16)} ${a.role.padEnd(6)} ${a.department}  <${a.email}>`);
        return 0;
      } catch (err) {
        if (err instanceof SeedRefused) {
          io.err(err.message);
          return 1;
        }
        throw err;
      }
    },
  },
  'apikey:create': {
    usage: 'apikey:create --ip <address|range> [--note TEXT]',
    summary: 'Create an API key allowed from an address or range; prints the key once.',
    help: '  --ip     the address (10.0.0.5), range (10.0.0.0/24) or * the key may be used from\n  --note   a note to recognise the key by',
    options: { ip: { type: 'string' }, note: { type: 'string' } },
    async run({ ctx, values, io }) {
      if (!values.ip) {
        io.err('--ip is required.');
        return 2;
      }
      const { key } = await createApiKey(ctx, { allowedIp: values.ip, note: values.note, canCreateTickets: true });
      io.out(key);
      return 0;
    },
  },
};

async function readProcessStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
