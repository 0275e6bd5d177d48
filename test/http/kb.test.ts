/**
 * The knowledge base: the portal shows public articles of public categories only (internal ones are
 * 404), featured articles first and on the home page (at no statement's cost), a search over question
 * and answer, pages; agents read everything in /scp/kb; admins write (the form keeps the input on a
 * mistake), delete after a confirmation, and each change is in the audit log.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { $, csrfFrom, loginAsAgent, type Client } from '../support/http.ts';
import { statementsDuring } from '../support/statements.ts';
import { buildAdmin, buildAgent, buildTicket, buildTopic } from '../factories/index.ts';
import { createKbArticle, deleteKbArticle, updateKbArticle, type KbArticleInput } from '../../src/domain/kb/kb-article-service.ts';
import { createKbCategory, deleteKbCategory } from '../../src/domain/kb/kb-category-service.ts';
import { formatKbBody } from '../../src/domain/kb/kb-format.ts';
import { deleteTopic } from '../../src/domain/topics/topic-service.ts';
import { Forbidden, ValidationFailed } from '../../src/domain/errors.ts';

describe('knowledge base', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof buildAdmin>>;
  let agent: Awaited<ReturnType<typeof buildAgent>>;
  let adminC: Client;
  let agentC: Client;
  let pub: number;
  let internal: number;
  let topicId: number;
  const portal = () => request(t.app);
  const write = (input: KbArticleInput) => createKbArticle(t.ctx(admin.actor), input);

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
    admin = await buildAdmin(t.db, { username: 'kbadmin' });
    agent = await buildAgent(t.db, { name: 'Agnes' });
    adminC = await loginAsAgent(t.app, admin.username, admin.password);
    agentC = await loginAsAgent(t.app, agent.username, agent.password);
    topicId = await buildTopic(t.db, { name: 'Printers' });
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db('rate_limits').delete();
    for (const id of await t.db('kb_articles').pluck('id')) await deleteKbArticle(t.ctx(admin.actor), Number(id), { confirm: 'yes' });
    for (const id of await t.db('kb_categories').pluck('id')) await deleteKbCategory(t.ctx(admin.actor), Number(id));
    pub = (await createKbCategory(t.ctx(admin.actor), { name: 'Getting started', description: 'First steps', visibility: 'public', sortOrder: '1' })).id;
    internal = (await createKbCategory(t.ctx(admin.actor), { name: 'Runbooks', visibility: 'internal' })).id;
  });

  it('the portal lists public categories, featured articles first, and hides internal articles and categories (404)', async () => {
    const open = await write({ title: 'How do I reset my password?', body: 'Use the link.', categoryId: String(pub), visibility: 'public' });
    const star = await write({ title: 'Where is my invoice?', body: 'In your account.', categoryId: String(pub), visibility: 'featured' });
    const secret = await write({ title: 'Internal escalation steps', body: 'Call ops.', categoryId: String(pub), visibility: 'internal' });
    const inInternal = await write({ title: 'Restart the mail server', body: 'Carefully.', categoryId: String(internal), visibility: 'public' });

    const index = $((await portal().get('/kb').expect(200)).text);
    expect(index('.kb-featured').text()).toContain('Where is my invoice?');
    expect(index('.kb-categories').text()).toContain('Getting started');
    expect(index('.kb-categories').text()).toContain('(2)');
    expect(index('main').text()).not.toContain('Runbooks');

    const cat = $((await portal().get(`/kb/c/${pub}`).expect(200)).text);
    expect(cat('.kb-articles li a').map((_, a) => cat(a).text()).get()).toEqual(['Where is my invoice?', 'How do I reset my password?']);
    expect(cat('main').text()).not.toContain('Internal escalation');

    await portal().get(`/kb/${open.id}`).expect(200);
    await portal().get(`/kb/${star.id}`).expect(200);
    await portal().get(`/kb/${secret.id}`).expect(404);
    await portal().get(`/kb/${inInternal.id}`).expect(404);
    await portal().get(`/kb/c/${internal}`).expect(404);
    await portal().get('/kb/999999').expect(404);
    await portal().get('/kb/abc').expect(404);
    await portal().get('/kb/c/abc').expect(404);
    // Agents read them all.
    await agentC.get(`/scp/kb/${secret.id}`).expect(200);
    await agentC.get(`/scp/kb/${inInternal.id}`).expect(200);
  });

  it('the portal nav links to it; the home page shows the featured articles without a statement once read', async () => {
    await write({ title: 'Featured answer', body: 'Yes.', categoryId: String(pub), visibility: 'featured' });
    await write({ title: 'Featured but internal category', body: 'No.', categoryId: String(internal), visibility: 'featured' });
    const first = $((await portal().get('/').expect(200)).text);
    expect(first('nav a[href="/kb"]').length).toBe(1);
    expect(first('.kb-featured').text()).toContain('Featured answer');
    expect(first('.kb-featured').text()).not.toContain('internal category');
    const { statements } = await statementsDuring(t.db, () => portal().get('/').expect(200));
    expect(statements.length).toBe(1); // the settings, as without a knowledge base
    // A change is seen at once (a new kb_version).
    await write({ title: 'Another featured answer', body: 'Yes.', categoryId: String(pub), visibility: 'featured' });
    expect($((await portal().get('/').expect(200)).text)('.kb-featured').text()).toContain('Another featured answer');
  });

  it('“Open a ticket” under an article preselects its public help topic', async () => {
    const a = await write({ title: 'Paper jam', body: 'Open tray 2.', categoryId: String(pub), visibility: 'public', topicIds: [String(topicId)] });
    const page = $((await portal().get(`/kb/${a.id}`).expect(200)).text);
    const href = page('.kb-help a').attr('href');
    expect(href).toBe(`/tickets/new?topicId=${topicId}`);
    const form = $((await portal().get(href!).expect(200)).text);
    expect(form('select[name=topicId] option[selected]').attr('value')).toBe(String(topicId));
  });

  it('searches question and answer, word by word, with wildcards taken literally, in the portal and the panel', async () => {
    await write({ title: 'VPN setup', body: 'Install the client, then sign in.', categoryId: String(pub), visibility: 'public' });
    await write({ title: 'Discount codes', body: 'Enter 100% off codes at checkout.', categoryId: String(pub), visibility: 'public' });
    await write({ title: 'VPN for admins', body: 'Internal client notes.', categoryId: String(pub), visibility: 'internal' });
    const hits = async (q: string) => {
      const page = $((await portal().get(`/kb?q=${encodeURIComponent(q)}`).expect(200)).text);
      return page('.kb-articles li > a').map((_, a) => page(a).text()).get();
    };
    expect(await hits('vpn')).toEqual(['VPN setup']);
    expect(await hits('client sign')).toEqual(['VPN setup']);
    expect(await hits('100%')).toEqual(['Discount codes']);
    expect(await hits('%')).toEqual(['Discount codes']);
    expect(await hits('_')).toEqual([]);
    expect($((await portal().get('/kb?q=nothing-like-this').expect(200)).text)('.empty').length).toBe(1);
    const panel = $((await agentC.get('/scp/kb?q=vpn').expect(200)).text)('.kb-list tbody tr').length;
    expect(panel).toBe(2);
  });

  it('pages the portal search, a category and the panel list (20 a page)', async () => {
    for (let i = 1; i <= 23; i++) await write({ title: `Question ${String(i).padStart(2, '0')}`, body: 'Paged answer.', categoryId: String(pub), visibility: 'public' });
    const p1 = $((await portal().get('/kb?q=paged').expect(200)).text);
    expect(p1('.kb-articles li').length).toBe(20);
    expect(p1('.pagination').text()).toContain('Page 1 of 2');
    const next = p1('.pagination a[rel=next]').attr('href')!;
    expect(next).toBe('/kb?q=paged&page=2');
    expect($((await portal().get(next).expect(200)).text)('.kb-articles li').length).toBe(3);
    expect($((await portal().get(`/kb/c/${pub}?page=2`).expect(200)).text)('.kb-articles li').length).toBe(3);
    const panel = $((await agentC.get(`/scp/kb?category=${pub}&page=2`).expect(200)).text);
    expect(panel('.kb-list tbody tr').length).toBe(3);
  });

  it('the panel filters by category and visibility and says when nothing matches', async () => {
    await write({ title: 'Public one', body: 'x', categoryId: String(pub), visibility: 'public' });
    await write({ title: 'Internal one', body: 'x', categoryId: String(internal), visibility: 'internal' });
    const titles = async (qs: string) => {
      const page = $((await agentC.get(`/scp/kb?${qs}`).expect(200)).text);
      return page('.kb-list tbody tr td:first-child > a').map((_, a) => page(a).text()).get();
    };
    expect(await titles(`category=${internal}`)).toEqual(['Internal one']);
    expect(await titles('visibility=public')).toEqual(['Public one']);
    expect($((await agentC.get('/scp/kb?visibility=featured').expect(200)).text)('.empty').text()).toContain('No article matches');
  });

  it('an admin creates an article on the form; a mistake shows the form again with the input kept', async () => {
    const _csrf = await csrfFrom(adminC, '/scp/kb/new');
    const bad = await adminC.post('/scp/kb').type('form').send({ _csrf, title: 'Kept question', body: '', categoryId: '', visibility: 'public', topicIds: String(topicId) });
    expect(bad.status).toBe(422);
    const form = $(bad.text);
    expect(form('input[name=title]').val()).toBe('Kept question');
    expect(form('#form-errors').text()).toMatch(/Answer|category/i);
    expect(form(`input[name=topicIds][value="${topicId}"]`).attr('checked')).toBeDefined();
    expect(await t.db('kb_articles').count({ n: '*' }).first()).toMatchObject({ n: 0 });

    const ok = await adminC.post('/scp/kb').type('form').send({ _csrf, title: 'Kept question', body: 'Now **answered**.\n\n- one\n- two', categoryId: String(pub), visibility: 'featured', topicIds: String(topicId) });
    expect(ok.status).toBe(303);
    const row = await t.db('kb_articles').first();
    expect(ok.headers.location).toBe(`/scp/kb/${row.id}`);
    expect(row).toMatchObject({ title: 'Kept question', visibility: 'featured', category_id: pub, updated_by_agent_id: admin.id });
    const show = $((await adminC.get(`/scp/kb/${row.id}`).expect(200)).text);
    expect(show('.kb-body strong').text()).toBe('answered');
    expect(show('.kb-body li').length).toBe(2);
    expect(show('main').text()).toContain('Printers');
    const audit = await t.db('audit_log').where({ action: 'kb_article.create', entity_id: row.id }).first();
    expect(audit).toMatchObject({ agent_id: admin.id, entity: 'kb_article' });
  });

  it('an admin edits an article (audit with before and after; updated by); an agent may not write', async () => {
    const a = await write({ title: 'Old title', body: 'Old body', categoryId: String(pub), visibility: 'public' });
    const _csrf = await csrfFrom(adminC, `/scp/kb/${a.id}/edit`);
    expect($((await adminC.get(`/scp/kb/${a.id}/edit`)).text)('input[name=title]').val()).toBe('Old title');
    const res = await adminC.post(`/scp/kb/${a.id}`).type('form').send({ _csrf, title: 'New title', body: 'Old body', categoryId: String(internal), visibility: 'internal' });
    expect(res.status).toBe(303);
    expect(await t.db('kb_articles').where({ id: a.id }).first()).toMatchObject({ title: 'New title', visibility: 'internal', category_id: internal });
    const audit = await t.db('audit_log').where({ action: 'kb_article.update', entity_id: a.id }).first();
    expect(JSON.parse(audit.before)).toEqual({ title: 'Old title', categoryId: pub, visibility: 'public' });
    expect(JSON.parse(audit.after)).toEqual({ title: 'New title', categoryId: internal, visibility: 'internal' });

    const bad = await adminC.post(`/scp/kb/${a.id}`).type('form').send({ _csrf, title: '', body: 'Changed body', categoryId: String(pub), visibility: 'nope' });
    expect(bad.status).toBe(422);
    expect($(bad.text)('textarea[name=body]').text()).toBe('Changed body');

    await expect(updateKbArticle(t.ctx(agent.actor), a.id, { title: 'x', body: 'y', categoryId: String(pub), visibility: 'public' })).rejects.toBeInstanceOf(Forbidden);
    const page = $((await agentC.get(`/scp/kb/${a.id}`).expect(200)).text);
    expect(page(`a[href="/scp/kb/${a.id}/edit"]`).length).toBe(0);
    await agentC.get(`/scp/kb/${a.id}/edit`).expect(403);
    await agentC.get('/scp/kb/new').expect(403);
  });

  it('deleting asks first: without the confirmation nothing is deleted; with it the article and its topic links go, with an audit row', async () => {
    const a = await write({ title: 'Doomed', body: 'Bye', categoryId: String(pub), visibility: 'public', topicIds: [String(topicId)] });
    const confirm = $((await adminC.get(`/scp/kb/${a.id}/delete`).expect(200)).text);
    expect(confirm('button[name=confirm][value=yes]').length).toBe(1);
    const _csrf = String(confirm('input[name=_csrf]').val());
    const unconfirmed = await adminC.post(`/scp/kb/${a.id}/delete`).type('form').send({ _csrf });
    expect(unconfirmed.status).toBe(422);
    expect(await t.db('kb_articles').where({ id: a.id }).first()).toBeDefined();
    const done = await adminC.post(`/scp/kb/${a.id}/delete`).type('form').send({ _csrf, confirm: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/scp/kb');
    expect(await t.db('kb_articles').where({ id: a.id }).first()).toBeUndefined();
    expect(await t.db('kb_articles_topics').where({ article_id: a.id }).first()).toBeUndefined();
    expect(JSON.parse((await t.db('audit_log').where({ action: 'kb_article.delete', entity_id: a.id }).first()).before)).toMatchObject({ title: 'Doomed', topicIds: [topicId] });
    await adminC.get(`/scp/kb/${a.id}`).expect(404);
  });

  it('categories: admins manage them in the admin area (audited); one with articles cannot be deleted; input is checked', async () => {
    const _csrf = await csrfFrom(adminC, '/scp/admin/kb-categories/new');
    const created = await adminC.post('/scp/admin/kb-categories').type('form').send({ _csrf, name: 'Billing', description: 'Money', visibility: 'internal', sortOrder: '5' });
    expect(created.status).toBe(303);
    const row = await t.db('kb_categories').where({ name: 'Billing' }).first();
    expect(row).toMatchObject({ description: 'Money', sort_order: 5 });
    expect(await t.db('audit_log').where({ action: 'kb_category.create', entity_id: row.id }).first()).toBeDefined();
    const taken = await adminC.post('/scp/admin/kb-categories').type('form').send({ _csrf, name: 'billing', visibility: 'public', sortOrder: 'x' });
    expect([409, 422]).toContain(taken.status);
    expect($(taken.text)('input[name=name]').val()).toBe('billing');
    await write({ title: 'Uses it', body: 'x', categoryId: String(row.id), visibility: 'public' });
    const del = await adminC.post(`/scp/admin/kb-categories/${row.id}/delete`).type('form').send({ _csrf });
    expect(del.status).toBe(409);
    expect(await t.db('kb_categories').where({ id: row.id }).first()).toBeDefined();
    await agentC.get('/scp/admin/kb-categories').expect(403);
  });

  it('deleting a help topic an article relates to unlinks it (the article stays)', async () => {
    const topic = await buildTopic(t.db);
    const a = await write({ title: 'Linked', body: 'x', categoryId: String(pub), visibility: 'public', topicIds: [String(topic)] });
    await deleteTopic(t.ctx(admin.actor), topic);
    expect(await t.db('kb_articles_topics').where({ article_id: a.id }).first()).toBeUndefined();
    expect(await t.db('kb_articles').where({ id: a.id }).first()).toBeDefined();
  });

  it('refuses bad input in the service: unknown category and topic, bad visibility, too long a question', async () => {
    const err = await write({ title: 'x'.repeat(192), body: 'y', categoryId: '999999', visibility: 'secret' as never, topicIds: ['999999'] }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    expect(Object.keys((err as ValidationFailed).fields).sort()).toEqual(['categoryId', 'title', 'topicIds', 'visibility']);
  });

  it('shows the answer as text with light formatting, never as HTML', async () => {
    const a = await write({ title: '<script>alert(1)</script>', body: '<img src=x onerror=alert(1)> **bold** see https://example.com/a?b=1. and javascript:alert(1)', categoryId: String(pub), visibility: 'public' });
    const html = (await portal().get(`/kb/${a.id}`).expect(200)).text;
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>alert(1)</script>');
    const page = $(html);
    expect(page('.kb-body').text()).toContain('<img src=x onerror=alert(1)>');
    expect(page('.kb-body a').map((_, l) => page(l).attr('href')).get()).toEqual(['https://example.com/a?b=1']);
    expect(formatKbBody('a\nb\n\n- c\n* d')).toEqual([{ kind: 'p', lines: [[{ text: 'a' }], [{ text: 'b' }]] }, { kind: 'ul', items: [[{ text: 'c' }], [{ text: 'd' }]] }]);
  });
});

describe('knowledge base links in a reply', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-02T10:00:00Z' });
  });
  afterAll(async () => t.close());

  it('the ticket page offers the public articles of its help topic and the featured ones, and inserts one as its question and portal address', async () => {
    const admin = await buildAdmin(t.db);
    const c = await loginAsAgent(t.app, admin.username, admin.password);
    const topic = await buildTopic(t.db, { name: 'Scanners' });
    const other = await buildTopic(t.db);
    const ticket = await buildTicket(t.db, { topic_id: topic });
    const cat = (await createKbCategory(t.ctx(admin.actor), { name: 'Hardware', visibility: 'public' })).id;
    const hidden = (await createKbCategory(t.ctx(admin.actor), { name: 'Ops', visibility: 'internal' })).id;
    const w = (title: string, visibility: 'public' | 'featured' | 'internal', topicIds: number[], categoryId = cat) =>
      createKbArticle(t.ctx(admin.actor), { title, body: 'x', categoryId: String(categoryId), visibility, topicIds: topicIds.map(String) });
    const onTopic = await w('Scanner jams', 'public', [topic]);
    await w('Featured everywhere', 'featured', []);
    await w('Other topic', 'public', [other]);
    const internal = await w('Internal on topic', 'internal', [topic]);
    await w('Internal category on topic', 'public', [topic], hidden);

    const page = $((await c.get(`/scp/tickets/${ticket.id}`).expect(200)).text);
    expect(page('#f-kb option').map((_, o) => page(o).text()).get()).toEqual(['Featured everywhere', 'Scanner jams']);
    const text = await c.get(`/scp/tickets/${ticket.id}/kb/${onTopic.id}`).expect(200);
    expect(text.text).toBe(`Scanner jams\nhttp://helpdesk.test/kb/${onTopic.id}`);
    await c.get(`/scp/tickets/${ticket.id}/kb/${internal.id}`).expect(404);
    // Without JavaScript: the page again with the reply filled in.
    const filled = $((await c.get(`/scp/tickets/${ticket.id}?kb=${onTopic.id}`).expect(200)).text);
    expect(filled('textarea[name=message]').text()).toBe(`Scanner jams\nhttp://helpdesk.test/kb/${onTopic.id}`);
  });
});
