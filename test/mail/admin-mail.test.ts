import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { buildAdmin, buildAgent } from '../factories/index.ts';
import { $, loginAsAgent, submit, type Client } from '../support/http.ts';
import { queueMail } from '../../src/domain/mail/outbox-service.ts';

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
});
