import type { Knex } from 'knex';

// An API key's calls are counted in a one-minute window of rate_limits ('api:key<id>'), by the same
// statement that finds the key; when that window began is when the key was last used (to the
// minute, as before). The separate api_keys.last_used_at write goes: each key's last use moves into
// an ended window (0 calls) unless the key has a window already.
const WINDOW_MS = 60_000;
const windowKey = (id: number): string => `api:key${id}`;

function at(v: unknown): Date {
  return v instanceof Date ? v : new Date(String(v).replace(' ', 'T') + (String(v).endsWith('Z') ? '' : 'Z'));
}
function stored(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('api_keys', 'last_used_at'))) return;
  const used = await knex('api_keys').whereNotNull('last_used_at').select('id', 'last_used_at');
  const open = new Set(await knex('rate_limits').whereIn('key', used.map((k) => windowKey(k.id))).pluck('key'));
  const rows = used.filter((k) => !open.has(windowKey(k.id)))
    .map((k) => ({ key: windowKey(k.id), hits: 0, reset_at: stored(new Date(at(k.last_used_at).getTime() + WINDOW_MS)) }));
  if (rows.length) await knex.batchInsert('rate_limits', rows, 200);
  await knex.schema.alterTable('api_keys', (t) => {
    t.dropColumn('last_used_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('api_keys', 'last_used_at')) return;
  await knex.schema.alterTable('api_keys', (t) => {
    t.datetime('last_used_at', { precision: 3 });
  });
  for (const k of await knex('api_keys').select('id')) {
    const w = await knex('rate_limits').where({ key: windowKey(k.id) }).first('reset_at');
    if (w) await knex('api_keys').where({ id: k.id }).update({ last_used_at: stored(new Date(at(w.reset_at).getTime() - WINDOW_MS)) });
  }
}
