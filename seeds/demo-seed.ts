/**
 * The practice-lab data of shared/LAB.md: departments "Support" and "Online Banking", SLA plans
 * "Sev-A" (1 hour, 24/7) and "Sev-B" (4 hours, 24/7), priorities, and the agents John (Support),
 * Jane (Online Banking) and an administrator, canned responses and a small knowledge base. Demo only:
 * never run automatically.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { toDbDate } from '../src/db/dialect.ts';
import { hashPassword } from '../src/domain/auth/passwords.ts';
import { kbChanged } from '../src/domain/kb/kb-category-service.ts';

export class SeedRefused extends Error {}

export interface DemoAccount {
  username: string;
  name: string;
  email: string;
  role: 'admin' | 'agent';
  department: string;
  password: string;
}

/** Loads the demo data. Refuses on a database that has the demo agents or real tickets, unless force. */
export async function seedDemo(db: Knex, opts: { password?: string; force?: boolean; now?: Date } = {}): Promise<DemoAccount[]> {
  const at = opts.now ?? new Date();
  const now = toDbDate(at);
  const ts = { created_at: now, updated_at: now };
  if (!opts.force) {
    if (await db('agents').whereIn('username', ['john', 'jane', 'admin']).first('id')) throw new SeedRefused('The demo data is already loaded (use --force to load it again).');
    if (await db('tickets').first('id')) throw new SeedRefused('This database already has tickets; refusing to add demo data (use --force).');
  }
  const accounts: Omit<DemoAccount, 'password'>[] = [
    { username: 'admin', name: 'Avery Admin', email: 'admin@example.com', role: 'admin', department: 'Support' },
    { username: 'john', name: 'John Smith', email: 'john@example.com', role: 'agent', department: 'Support' },
    { username: 'jane', name: 'Jane Doe', email: 'jane@example.com', role: 'agent', department: 'Online Banking' },
  ];
  const passwords = accounts.map(() => opts.password ?? crypto.randomBytes(9).toString('base64url'));
  const hashes = await Promise.all(passwords.map((p) => hashPassword(p)));

  await db.transaction(async (trx) => {
    const schedule = (await trx('schedules').where({ name: '24/7' }).first('id'))?.id ?? (await trx('schedules').insert({ name: '24/7', kind: '24x7', timezone: 'UTC', is_active: true, ...ts }))[0];
    const plan = async (name: string, minutes: number, notes: string) =>
      (await trx('sla_plans').where({ name }).first('id'))?.id ??
      (await trx('sla_plans').insert({ name, grace_minutes: minutes, schedule_id: schedule, is_active: true, alerts_disabled: false, notes, ...ts }))[0];
    const sevA = await plan('Sev-A', 60, 'Severity A: 1 hour, 24/7');
    await plan('Sev-B', 240, 'Severity B: 4 hours, 24/7');
    const dept = async (name: string, sla: number | null) =>
      (await trx('departments').where({ name }).first('id'))?.id ?? (await trx('departments').insert({ name, sla_plan_id: sla, is_public: true, is_active: true, ...ts }))[0];
    const depts: Record<string, number> = { Support: await dept('Support', null), 'Online Banking': await dept('Online Banking', sevA) };
    for (const [name, urgency, color] of [['Low', 4, '#DDFFDD'], ['Normal', 3, '#FFFFF0'], ['High', 2, '#FEE7E7'], ['Emergency', 1, '#FFC9C9']] as const) {
      if (!(await trx('priorities').where({ name }).first('id'))) await trx('priorities').insert({ name, urgency, color, is_active: true, ...ts });
    }
    const topic = await trx('help_topics').where({ name: 'Online Banking' }).first('id');
    if (!topic) await trx('help_topics').insert({ name: 'Online Banking', is_public: true, is_active: true, department_id: depts['Online Banking'], ...ts });
    // Canned responses the lab's agents answer with every day (Admin → Canned responses).
    for (const [title, body, department] of [
      ['Thanks, we are on it', 'Hello %{user.name},\n\nThank you for reporting this. We are looking into ticket #%{ticket.number} now and will update you shortly.\n\n%{agent.name}', null],
      ['Online banking: clear the app cache', 'Hello %{user.name},\n\nPlease sign out of the mobile banking app, clear its cache (Settings → Apps → Banking → Storage → Clear cache) and sign in again. Let us know if the problem stays.\n\n%{agent.name}, Online Banking', 'Online Banking'],
    ] as const) {
      if (!(await trx('canned_responses').where({ title }).first('id'))) await trx('canned_responses').insert({ title, body, department_id: department ? depts[department] : null, is_active: true, ...ts });
    }
    await seedKnowledgeBase(trx, ts, at);
    // The lab's agents work as they always did: every permission but delete (Admin → Roles).
    const roleId = (await trx('roles').where({ name: 'Expanded access' }).first('id'))?.id ?? null;
    for (const [i, a] of accounts.entries()) {
      const existing = await trx('agents').where({ username: a.username }).first('id');
      const row = { name: a.name, email: a.email, role: a.role, role_id: roleId, department_id: depts[a.department], password_hash: hashes[i], is_active: true, failed_logins: 0, locked_until: null, password_changed_at: now, updated_at: now };
      if (existing) await trx('agents').where({ id: existing.id }).update(row);
      else await trx('agents').insert({ username: a.username, ...row, created_at: now });
    }
    // The administrator reaches every department.
    const adminId = (await trx('agents').where({ username: 'admin' }).first('id')).id;
    for (const id of Object.values(depts)) {
      await trx('departments_agents').insert({ department_id: id, agent_id: adminId }).onConflict(['department_id', 'agent_id']).ignore();
    }
  });
  return accounts.map((a, i) => ({ ...a, password: passwords[i] }));
}

/** A public category with a featured article on the "Online Banking" topic, and an internal runbook (Knowledge base). */
async function seedKnowledgeBase(trx: Knex.Transaction, ts: { created_at: string; updated_at: string }, at: Date): Promise<void> {
  const category = async (name: string, description: string, isPublic: boolean) =>
    (await trx('kb_categories').where({ name }).first('id'))?.id ?? (await trx('kb_categories').insert({ name, description, is_public: isPublic, sort_order: 0, ...ts }))[0];
  const banking = await category('Online banking', 'Signing in, the mobile app and payments.', true);
  const runbooks = await category('Agent runbooks', 'How we handle things behind the scenes.', false);
  const topic = (await trx('help_topics').where({ name: 'Online Banking' }).first('id'))?.id;
  for (const [title, body, categoryId, visibility] of [
    ['I cannot sign in to the banking app', 'Most sign-in problems go away after clearing the app\'s cache:\n\n- Sign out of the app\n- Settings → Apps → Banking → Storage → **Clear cache**\n- Sign in again\n\nStill stuck? Open a ticket below and tell us which phone you use.', banking, 'featured'],
    ['Resetting a customer\'s second factor', 'Check the caller\'s identity with two questions from their profile first. Then reset the second factor in the core banking console; never read a code to the caller.', runbooks, 'internal'],
  ] as const) {
    if (await trx('kb_articles').where({ title }).first('id')) continue;
    const [id] = await trx('kb_articles').insert({ title, body, category_id: categoryId, visibility, ...ts });
    if (topic && visibility !== 'internal') await trx('kb_articles_topics').insert({ article_id: id, topic_id: topic });
  }
  await kbChanged(trx, at); // the portal's home page shows the featured article
}
