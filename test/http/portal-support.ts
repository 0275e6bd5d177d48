/** Helpers shared by the portal HTTP tests (not a test file itself). */
import type { Knex } from 'knex';
import { $, csrfFrom, type Client } from '../support/http.ts';

/** The action URL (with its ?_csrf= token) of the multipart form on `path`. */
export async function multipartAction(c: Client, path: string): Promise<string> {
  const res = await c.get(path);
  const action = $(res.text)('form[enctype="multipart/form-data"]').attr('action');
  if (!action || !action.includes('_csrf=')) throw new Error(`no multipart form with a CSRF token on ${path} (status ${res.status})`);
  return action;
}

export type FileSpec = { name: string; data: Buffer | string; type?: string };

/** POSTs a multipart form to `action`, with text fields and files under `attachments`. */
export function postMultipart(c: Client, action: string, fields: Record<string, string>, files: FileSpec[] = []) {
  let req = c.post(action);
  for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
  for (const f of files) req = req.attach('attachments', Buffer.isBuffer(f.data) ? f.data : Buffer.from(f.data), { filename: f.name, contentType: f.type ?? 'application/octet-stream' });
  return req;
}

/** Opens the ticket `number` for client `c` through the status form (email + number). */
export async function openViaStatus(c: Client, email: string, number: string) {
  const _csrf = await csrfFrom(c, '/tickets/status');
  return c.post('/tickets/status').type('form').send({ _csrf, email, number, action: 'view' });
}

export async function count(db: Knex, table: string, where: Record<string, unknown> = {}): Promise<number> {
  const [row] = await db(table).where(where).count({ n: '*' });
  return Number(row.n);
}
