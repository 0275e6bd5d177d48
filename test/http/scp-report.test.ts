import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { loginAsAgent, $, type Client } from '../support/http.ts';
import { buildAdmin, buildAgent, buildDepartment, buildTicket, type BuiltAgent } from '../factories/index.ts';
import { writeSettings } from '../../src/domain/settings/settings-service.ts';
import { toDbDate } from '../../src/db/dialect.ts';

const d = (iso: string) => toDbDate(new Date(iso));
const PERIOD = 'period=custom&from=2026-03-07&to=2026-03-10';

/** A small RFC 4180 parser for the test (quotes, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += c;
  }
  return rows;
}

/** The table as its cells' text (header, rows, total), "—" read back as the empty CSV cell. */
function tableCells(html: string, id: string): string[][] {
  const page = $(html);
  return page(`#table-${id} tr`).toArray().map((tr) => page(tr).children('th,td').toArray().map((c) => {
    const text = page(c).text().trim();
    return text === '—' ? '' : text;
  }));
}

describe('reports over HTTP', () => {
  let t: TestApp;
  let agent: BuiltAgent;
  let admin: BuiltAgent;
  let deptA: number;
  let deptB: number;
  let asAgent: Client;
  let asAdmin: Client;

  beforeAll(async () => {
    t = await startTestApp({ now: '2026-03-12T15:00:00Z' });
    await writeSettings(t.db, { timezone: 'America/New_York' }, new Date());
    deptA = await buildDepartment(t.db, { name: 'Alpha, "the first"' });
    deptB = await buildDepartment(t.db, { name: '=HYPERLINK("http://evil.test","B")' });
    const deptC = await buildDepartment(t.db, { name: '<script>alert(1)</script> desk' });
    agent = await buildAgent(t.db, { department_id: deptA });
    admin = await buildAdmin(t.db, { department_id: deptA });
    // Alpha: created Mon 2026-03-09 23:30 EDT (2026-03-10 03:30 UTC), answered after 1 h (first response due after 2 h: met), closed in time.
    await buildTicket(t.db, { department_id: deptA, created_at: d('2026-03-10T03:30:00Z'), first_response_at: d('2026-03-10T04:30:00Z'), first_response_due_at: d('2026-03-10T05:30:00Z'), status: 'closed', closed_at: d('2026-03-10T05:30:00Z'), due_at: d('2026-03-10T06:00:00Z') });
    // Alpha: created Tue Mar 10 10:00 EDT, answered after 3 h (first response due after 2 h: missed), still open.
    await buildTicket(t.db, { department_id: deptA, created_at: d('2026-03-10T14:00:00Z'), first_response_at: d('2026-03-10T17:00:00Z'), first_response_due_at: d('2026-03-10T16:00:00Z') });
    // Beta and C: closed late / open, only admins see them.
    await buildTicket(t.db, { department_id: deptB, created_at: d('2026-03-08T15:00:00Z'), status: 'closed', closed_at: d('2026-03-09T15:00:00Z'), due_at: d('2026-03-09T12:00:00Z') });
    await buildTicket(t.db, { department_id: deptC, created_at: d('2026-03-08T16:00:00Z'), first_response_at: d('2026-03-08T16:30:00Z'), status: 'closed', closed_at: d('2026-03-08T17:00:00Z'), due_at: d('2026-03-08T18:00:00Z') });
    asAgent = await loginAsAgent(t.app, agent.username, agent.password);
    asAdmin = await loginAsAgent(t.app, admin.username, admin.password);
  });
  afterAll(async () => t.close());

  it('sends anonymous visitors to sign in, for the page and the CSV', async () => {
    for (const path of ['/scp/reports', `/scp/reports.csv?table=summary&${PERIOD}`]) {
      const res = await request(t.app).get(path);
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(/^\/scp\/login\?next=/);
    }
  });

  it('shows an agent their departments only, with the help desk\'s days', async () => {
    const res = await asAgent.get(`/scp/reports?${PERIOD}`);
    expect(res.status).toBe(200);
    const summary = tableCells(res.text, 'summary');
    expect(summary[0][0]).toBe('Department');
    expect(summary.slice(1).map((r) => r[0])).toEqual(['Alpha, "the first"', 'All']);
    expect(summary[1].slice(1, 9)).toEqual(['2', '1', '0', '1', '0', '1', '0', '100.0']);
    expect(summary[0].slice(9, 12)).toEqual(['First response met', 'First response missed', 'First response compliance %']);
    expect(summary[1].slice(9, 12)).toEqual(['1', '1', '50.0']);
    expect(summary[1].slice(12)).toEqual(['2.00', '2.80', '2.00', '2.00']); // first response 1 h and 3 h; resolution 2 h
    expect(res.text).not.toContain('HYPERLINK');
    expect(res.text).not.toContain('alert(1)');
    // 2026-03-10 03:30 UTC is March 9 in New York.
    expect(tableCells(res.text, 'daily').slice(1)).toEqual([['2026-03-07', '0', '0'], ['2026-03-08', '0', '0'], ['2026-03-09', '1', '0'], ['2026-03-10', '1', '1']]);
  });

  it('refuses a non-admin another department\'s figures by dept parameter', async () => {
    expect((await asAgent.get(`/scp/reports?${PERIOD}&dept=${deptB}`)).status).toBe(403);
    const csv = await asAgent.get(`/scp/reports.csv?table=summary&${PERIOD}&dept=${deptB}`);
    expect(csv.status).toBe(403);
    expect(csv.text).not.toContain('HYPERLINK');
  });

  it('draws the charts as safe SVG, with escaped labels and no inline style or script', async () => {
    const res = await asAdmin.get(`/scp/reports?${PERIOD}`);
    expect(res.status).toBe(200);
    const page = $(res.text);
    expect(page('svg.chart').length).toBe(3);
    expect(page('svg.chart title').first().text()).toBe('Tickets opened and closed per day');
    const main = page('main').html()!;
    expect(main).not.toMatch(/<script/i);
    expect(main).not.toMatch(/\sstyle=/i);
    expect(main).toContain('&lt;script&gt;alert(1)&lt;/script&gt; desk');
    expect(page('svg.chart text').toArray().some((n) => page(n).text().includes('<script>alert(1)'))).toBe(true);
  });

  it('exports each table as CSV with the same cells as the page', async () => {
    const page = await asAdmin.get(`/scp/reports?${PERIOD}&group=department`);
    for (const table of ['summary', 'daily', 'sla', 'response', 'hours', 'weekdays']) {
      const res = await asAdmin.get(`/scp/reports.csv?table=${table}&${PERIOD}&group=department`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.headers['content-disposition']).toContain(`tessera-${table}-2026-03-07-to-2026-03-10.csv`);
      expect(res.text.charCodeAt(0), 'UTF-8 byte-order mark, as the tickets CSV').toBe(0xfeff);
      const csv = parseCsv(res.text.slice(1)).map((r) => r.map((c) => c.replace(/^'(?=[=+\-@])/, '')));
      expect(csv).toEqual(tableCells(page.text, table));
    }
  });

  it('exports first-response met, missed and compliance per department in the SLA table and the summary, "—" (empty) when nothing qualified', async () => {
    const header = ['Department', 'SLA met', 'SLA breached', 'SLA compliance %', 'First response met', 'First response missed', 'First response compliance %'];
    const sla = parseCsv((await asAdmin.get(`/scp/reports.csv?table=sla&${PERIOD}&group=source`)).text.slice(1));
    expect(sla[0]).toEqual(header);
    // Grouped by source, the SLA table is read per department on its own: the same figures.
    expect(Object.fromEntries(sla.slice(1).map((r) => [r[0], r.slice(1)]))).toEqual({
      'Alpha, "the first"': ['1', '0', '100.0', '1', '1', '50.0'],
      [`'=HYPERLINK("http://evil.test","B")`]: ['0', '1', '0.0', '0', '0', ''],
      '<script>alert(1)</script> desk': ['1', '0', '100.0', '0', '0', ''],
    });
    const mine = parseCsv((await asAgent.get(`/scp/reports.csv?table=sla&${PERIOD}`)).text.slice(1));
    expect(mine).toEqual([header, ['Alpha, "the first"', '1', '0', '100.0', '1', '1', '50.0']]);
    const summary = parseCsv((await asAgent.get(`/scp/reports.csv?table=summary&${PERIOD}`)).text.slice(1));
    expect(summary[0].slice(6, 12)).toEqual(header.slice(1));
    expect(summary.map((r) => r.slice(9, 12))).toEqual([header.slice(4), ['1', '1', '50.0'], ['1', '1', '50.0']]);
  });

  it('starts each CSV with a UTF-8 byte-order mark so that spreadsheets read "1–4 hours" as written', async () => {
    const res = await asAdmin.get(`/scp/reports.csv?table=response&${PERIOD}`).buffer(true).parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect(res.status).toBe(200);
    const bytes = res.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8')).toContain('"1–4 hours"');
  });

  it('neutralises formulas in CSV cells', async () => {
    const res = await asAdmin.get(`/scp/reports.csv?table=summary&${PERIOD}`);
    const rows = parseCsv(res.text);
    expect(rows.map((r) => r[0])).toContain(`'=HYPERLINK("http://evil.test","B")`);
    expect(res.text).toContain(`"'=HYPERLINK(""http://evil.test"",""B"")"`);
    expect(rows.map((r) => r[0])).toContain('Alpha, "the first"');
  });

  it('links every table to its CSV with the same choice', async () => {
    const page = $((await asAgent.get(`/scp/reports?${PERIOD}&group=source`)).text);
    expect(page('#table-summary').closest('.report-table').find('a[download]').attr('href')).toBe(`/scp/reports.csv?table=summary&period=custom&group=source&from=2026-03-07&to=2026-03-10`);
  });

  it('shows the form again with errors for bad input', async () => {
    const res = await asAgent.get('/scp/reports?period=custom&from=2026-03-10&to=2026-03-01');
    expect(res.status).toBe(422);
    expect($(res.text)('#e-to').length).toBe(1);
    expect($(res.text)('#f-from').val()).toBe('2026-03-10');
    expect((await asAgent.get('/scp/reports.csv?table=nope')).status).toBe(422);
    expect((await asAgent.get('/scp/reports?period=7d&period=30d')).status).toBe(422);
  });

  it('shows an empty state when there is nothing to count', async () => {
    const idle = await buildAgent(t.db);
    const res = await (await loginAsAgent(t.app, idle.username, idle.password)).get('/scp/reports?period=30d');
    expect(res.status).toBe(200);
    expect($(res.text)('#report-empty').length).toBe(1);
  });
});
