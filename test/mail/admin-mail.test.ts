import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementsDuring } from '../support/statements.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAdmin, buildAgent } from '../factories/index.ts';
import { $, loginAsAgent, submit, type Client } from '../support/http.ts';
import { queueMail } from '../../src/domain/mail/outbox-service.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { toDbDate } from '../../src/db/dialect.ts';

describe('admin mail log /scp/admin/mail', () => {
  let t: TestApp;
  let admin: Client;
  const ids: number[] = [];
  const q = (to: string) =>
    queueMail(t.ctx(), t.db, { template: 'new-message-alert', to, vars: { agentName: 'A', ticket: { number: '42', subject: 'Hi <b>there</b>', department: 'D' }, agentUrl: 'x', requester: { name: 'R', email: 'r@x.test' }, message: 'Line 1\nLine <2>' } });

  beforeAll(async () => {
    t = await startTestApp();
    const a = await buildAdmin(t.db);
    admin = await loginAsAgent(t.app, a.username, a.password);
    for (let i = 0; i < 55; i++) ids.push(await q(`p${i}@agents.test`));
    await t.db('outbox').where({ id: ids[0] }).update({ status: 'failed', attempts: 8, last_error: '550 No such user' });
    await t.db('outbox').where({ id: ids[1] }).update({ status: 'sent', attempts: 1 });
  });
  afterAll(async () => t.close());

  it('is for admins only', async () => {
    const ag = await buildAgent(t.db);
    const agent = await loginAsAgent(t.app, ag.username, ag.password);
    expect((await agent.get('/scp/admin/mail')).status).toBe(403);
    expect((await agent.post(`/scp/admin/mail/${ids[0]}/retry`).type('form').send({})).status).toBeGreaterThanOrEqual(403);
  });

  it('lists messages with status, attempts and last error, paginated and filtered by status', async () => {
    const res = await admin.get('/scp/admin/mail');
    expect(res.status).toBe(200);
    const page = $(res.text);
    expect(page('table.mail-log tbody tr')).toHaveLength(50);
    expect(page('.pagination').text()).toContain('Page 1 of 2');
    const page2 = $((await admin.get('/scp/admin/mail?page=2')).text);
    expect(page2('table.mail-log tbody tr')).toHaveLength(5);
    const failed = $((await admin.get('/scp/admin/mail?status=failed')).text);
    expect(failed('table.mail-log tbody tr')).toHaveLength(1);
    expect(failed('table.mail-log').text()).toContain('550 No such user');
    expect((await admin.get('/scp/admin/mail?status=bogus')).status).toBe(422);
  });

  it('shows the rendered body escaped', async () => {
    const res = await admin.get(`/scp/admin/mail/${ids[2]}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Line &lt;2&gt;');
    expect(res.text).not.toContain('<b>there</b>');
    expect((await admin.get('/scp/admin/mail/999999')).status).toBe(404);
    expect((await admin.get('/scp/admin/mail/abc')).status).toBe(404);
  });

  it('shows dates in the help desk’s time zone, as agent pages show them, in the list and on a message', async () => {
    const newest = ids[ids.length - 1];
    const at = (iso: string) => toDbDate(new Date(iso));
    await t.db('outbox').where({ id: newest }).update({ created_at: at('2026-11-28T23:01:25.659Z'), next_attempt_at: at('2026-11-28T23:31:00.000Z') });
    await t.db('outbox').where({ id: ids[1] }).update({ sent_at: at('2026-07-01T08:15:00.000Z') });
    await writeSettings(t.db, { timezone: 'Europe/Berlin' }, new Date());
    try {
      const list = $((await admin.get('/scp/admin/mail')).text);
      expect(list(`tr:has(a[href="/scp/admin/mail/${newest}"]) td[data-label="Created"]`).text()).toBe('2026-11-29 00:01 GMT+1');
      const show = $((await admin.get(`/scp/admin/mail/${newest}`)).text);
      expect(show('dt:contains("Created") + dd').text()).toBe('2026-11-29 00:01 GMT+1');
      expect(show('dt:contains("Next attempt") + dd').text()).toBe('2026-11-29 00:31 GMT+1');
      const sent = $((await admin.get(`/scp/admin/mail/${ids[1]}`)).text);
      expect(sent('dt:contains("Sent") + dd').text()).toBe('2026-07-01 10:15 GMT+2');
    } finally {
      await writeSettings(t.db, { timezone: 'UTC' }, new Date());
    }
  });

  it('retries a failed message and discards a waiting one (POST with CSRF, confirm on discard)', async () => {
    const show = $((await admin.get(`/scp/admin/mail/${ids[3]}`)).text);
    expect(show(`form[action="/scp/admin/mail/${ids[3]}/discard"]`).attr('data-confirm')).toBeTruthy();
    expect((await admin.post(`/scp/admin/mail/${ids[0]}/retry`).type('form').send({})).status).toBe(403); // no CSRF token
    const retry = await submit(admin, `/scp/admin/mail/${ids[0]}`, `/scp/admin/mail/${ids[0]}/retry`, {});
    expect(retry.status).toBe(303);
    expect(await t.db('outbox').where({ id: ids[0] }).first()).toMatchObject({ status: 'queued', attempts: 0 });
    const discard = await submit(admin, `/scp/admin/mail/${ids[3]}`, `/scp/admin/mail/${ids[3]}/discard`, {});
    expect(discard.status).toBe(303);
    expect((await t.db('outbox').where({ id: ids[3] }).first()).status).toBe('discarded');
    // A sent message can be neither retried nor discarded.
    const again = await submit(admin, `/scp/admin/mail/${ids[1]}`, `/scp/admin/mail/${ids[1]}/discard`, {});
    expect(again.status).toBe(409);
    expect(await t.db('audit_log').whereIn('action', ['mail.retry', 'mail.discard'])).toHaveLength(2);
  });

  it('counts a long log only as far as the page asked for ("1,000+") and pages on past it', async () => {
    // 1,060 more: 1,115 messages, 1,061 of them sent. A large desk holds millions (a few per ticket).
    const row = { template: 'new-message-alert', to_address: 'bulk@agents.test', subject: 'Bulk', text_body: 'x', status: 'sent', attempts: 1, next_attempt_at: '2026-01-01 00:00:00.000', created_at: '2026-01-01 00:00:00.000' };
    for (let i = 0; i < 1060; i += 53) await t.db('outbox').insert(Array.from({ length: 53 }, (_x, k) => ({ ...row, message_id: `<bulk${i + k}@log.test>` })));
    const first = $((await admin.get('/scp/admin/mail')).text);
    expect(first('.pagination').text()).toMatch(/Page 1 of 21\+ · 1,000\+ in all/);
    expect(first('table.mail-log tbody tr').first().text()).toContain('Bulk');
    // Page 21 holds messages 1,001–1,050: its total is counted to 1,051, so a next page shows.
    const p21 = $((await admin.get('/scp/admin/mail?page=21')).text);
    expect(p21('table.mail-log tbody tr')).toHaveLength(50);
    expect(p21('.pagination').text()).toMatch(/Page 21 of 22\+ · 1,050\+ in all/);
    expect(p21('a[rel=next]').attr('href')).toBe('/scp/admin/mail?page=22');
    // Asked past the end (counted to 1,501): the exact total, and the last page.
    const last = $((await admin.get('/scp/admin/mail?page=30')).text);
    expect(last('.pagination').text()).toMatch(/Page 23 of 23 · 1115 in all/);
    expect(last('table.mail-log tbody tr')).toHaveLength(15);
    expect(last('a[rel=next]')).toHaveLength(0);
    const sent = $((await admin.get('/scp/admin/mail?status=sent')).text);
    expect(sent('.pagination').text()).toMatch(/1,000\+ in all/);
    expect(sent('a[rel=next]').attr('href')).toBe('/scp/admin/mail?status=sent&page=2');
  });

  it('reads a status\'s messages newest first, and their total, from outbox_status_id', async () => {
    const { result, statements: seen } = await statementsDuring(t.db, () => admin.get('/scp/admin/mail?status=failed'));
    expect(result.status).toBe(200);
    const reads = seen.filter((s) => /from `outbox`/.test(s.sql) && /`status` = \?/.test(s.sql));
    expect(reads).toHaveLength(2); // the bounded total, the page
    for (const s of reads) {
      // The page walks this status's entries of outbox_status_id backwards (no sort); the total
      // counts entries of an index that starts with the status (either one: both hold the id).
      const isPage = /order by/.test(s.sql);
      if (t.config.database.client === 'sqlite') {
        const plan = ((await t.db.raw(`EXPLAIN QUERY PLAN ${s.sql}`, s.bindings as any[])) as { detail: string }[]).map((r) => r.detail).join('\n');
        expect(plan).toMatch(isPage ? /SEARCH outbox USING INDEX outbox_status_id \(status=\?\)/ : /SEARCH outbox USING COVERING INDEX outbox_status_\w+ \(status=\?\)/);
        expect(plan).not.toMatch(/TEMP B-TREE/);
      } else {
        const [plan] = (await t.db.raw(`EXPLAIN ${s.sql}`, s.bindings as any[])) as unknown as [{ table: string; key: string | null; Extra: string | null }[]];
        const outbox = plan.filter((r) => r.table === 'outbox');
        expect(outbox).toHaveLength(1);
        if (isPage) expect(outbox[0].key).toBe('outbox_status_id');
        else expect(outbox[0]).toMatchObject({ key: expect.stringMatching(/^outbox_status_/), Extra: expect.stringMatching(/Using index/) });
        expect(outbox[0].Extra ?? '').not.toMatch(/filesort/);
      }
    }
  });
});
