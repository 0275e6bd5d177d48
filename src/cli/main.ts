/**
 * The command line: `npm run tessera -- <command>` (or the `tessera` bin).
 * Exit codes: 0 done, 1 failed, 2 bad arguments.
 */
import 'dotenv/config';
import { parseArgs } from 'node:util';
import readline from 'node:readline/promises';
import { ConfigError, loadConfig } from '../config.ts';
import { createDb, migrateLatest } from '../db/knex.ts';
import { SYSTEM } from '../domain/actor.ts';
import { DomainError, ValidationFailed } from '../domain/errors.ts';
import type { ServiceContext } from '../domain/context.ts';
import { cliCommands, type CliCommand } from './cli-commands.ts';
import { createClock } from '../test-clock.ts';

const USAGE = `Usage: tessera <command> [options]

Commands:
${Object.values(cliCommands).map((c) => `  ${c.usage.padEnd(58)} ${c.summary}`).join('\n')}

Run 'tessera <command> --help' for a command's options.`;

export class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE + '\n');
    return name ? 0 : 2;
  }
  const cmd: CliCommand | undefined = cliCommands[name];
  if (!cmd) {
    process.stderr.write(`Unknown command '${name}'.\n\n${USAGE}\n`);
    return 2;
  }
  let args;
  try {
    args = parseArgs({ args: rest, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\nUsage: tessera ${cmd.usage}\n${cmd.help}\n`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(`Usage: tessera ${cmd.usage}\n${cmd.summary}\n${cmd.help}\n`);
    return 0;
  }
  const config = loadConfig();
  const db = createDb(config.database);
  try {
    await migrateLatest(db);
    const ctx: ServiceContext = { db, actor: SYSTEM, clock: createClock(config), publicUrl: config.publicUrl };
    const io = {
      out: (s: string) => process.stdout.write(s + '\n'),
      err: (s: string) => process.stderr.write(s + '\n'),
      readStdin: readAll,
      prompt: async (q: string, hidden = false) => ask(q, hidden),
    };
    return await cmd.run({ ctx, db, config, values: args.values as Record<string, any>, io });
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\nUsage: tessera ${cmd.usage}\n${cmd.help}\n`);
      return 2;
    }
    if (err instanceof ValidationFailed) {
      for (const [k, v] of Object.entries(err.fields)) process.stderr.write(`${k}: ${v}\n`);
      return 1;
    }
    if (err instanceof DomainError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await db.destroy();
  }
}

async function readAll(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function ask(question: string, hidden: boolean): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (hidden) (rl as any)._writeToOutput = (s: string) => { if (s.includes(question)) process.stdout.write(s); };
  try {
    const a = await rl.question(question);
    if (hidden) process.stdout.write('\n');
    return a;
  } finally {
    rl.close();
  }
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err) => {
    process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `Failed: ${err?.message ?? err}\n`);
    // A mail server piping a message treats 75 (EX_TEMPFAIL) as "try again later", 1 as a bounce.
    process.exit(process.argv[2] === 'mail:pipe' && !(err instanceof ConfigError) ? 75 : 1);
  });
