/**
 * Attachments: names normalised, type and size checked against settings, contents stored in the
 * database (so every process serves them), downloads only through a permission-checked route.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import type { Knex } from 'knex';
import { toDbDate } from '../../db/dialect.ts';
import { ValidationFailed } from '../errors.ts';
import type { Settings } from '../settings/settings-service.ts';

export interface UploadedFile {
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface AttachmentInfo {
  id: number;
  entryId: number | null;
  filename: string;
  contentType: string;
  size: number;
}

/**
 * Unicode NFKC, invisible and control characters removed (zero-width, bidi overrides that disguise
 * 'exe.pdf' as 'fdp.exe'), path separators replaced, leading dots trimmed, at most 255 characters.
 */
export function normaliseFilename(name: string): string {
  let n = String(name ?? '').normalize('NFKC');
  n = n.replace(/[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/g, '');
  n = n.replace(/[\\/:*?"<>|]/g, '_').replace(/\s+/g, ' ').trim();
  n = n.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  if (!n) n = 'attachment';
  if (n.length > 255) {
    const ext = path.extname(n).slice(0, 16);
    n = n.slice(0, 255 - ext.length) + ext;
  }
  return n;
}

export function extensionOf(filename: string): string {
  return path.extname(filename).slice(1).toLowerCase();
}

/** Types a browser could execute or render as a document; always served as a download of octet-stream. */
const ACTIVE_TYPES = /(html|svg|xml|javascript|ecmascript|x-sh|xhtml)/i;

/** The Content-Type to serve a stored file with: never one a browser would render as active content. */
export function safeContentType(contentType: string): string {
  const ct = (contentType || '').toLowerCase().split(';')[0].trim();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(ct) || ACTIVE_TYPES.test(ct)) return 'application/octet-stream';
  return ct;
}

/** Checks count, size and type of files against the settings. @throws ValidationFailed on field 'attachments' */
export function checkAttachments(files: UploadedFile[], settings: Pick<Settings, 'attachment_max_bytes' | 'attachment_max_count' | 'attachment_allowed_types'>): void {
  if (files.length > settings.attachment_max_count)
    throw new ValidationFailed({ attachments: `Attach at most ${settings.attachment_max_count} files.` });
  for (const f of files) {
    const name = normaliseFilename(f.filename);
    if (f.data.length > settings.attachment_max_bytes)
      throw new ValidationFailed({ attachments: `"${name}" is larger than ${Math.round(settings.attachment_max_bytes / 1024 / 1024 * 10) / 10} MB.` });
    const allowed = settings.attachment_allowed_types;
    if (allowed.length && !allowed.includes(extensionOf(name)))
      throw new ValidationFailed({ attachments: `"${name}" is not an allowed file type (allowed: ${allowed.join(', ')}).` });
  }
}

/** Stores files for a thread entry in the caller's transaction. */
export async function storeAttachments(trx: Knex.Transaction, ticketId: number, entryId: number | null, files: UploadedFile[], now: Date): Promise<number[]> {
  const ids: number[] = [];
  for (const f of files) {
    const sha256 = crypto.createHash('sha256').update(f.data).digest('hex');
    const [fileId] = await trx('files').insert({ sha256, size: f.data.length, created_at: toDbDate(now) });
    await trx('file_contents').insert({ file_id: fileId, data: f.data });
    const [id] = await trx('attachments').insert({
      ticket_id: ticketId, entry_id: entryId, file_id: fileId, filename: normaliseFilename(f.filename),
      content_type: safeContentType(f.contentType), size: f.data.length, created_at: toDbDate(now),
    });
    ids.push(id);
  }
  return ids;
}

/** Attachments of a ticket, keyed by entry id (for rendering the thread). */
export async function listAttachments(db: Knex | Knex.Transaction, ticketId: number): Promise<Map<number, AttachmentInfo[]>> {
  const rows = await db('attachments').where({ ticket_id: ticketId }).orderBy('id');
  const out = new Map<number, AttachmentInfo[]>();
  for (const r of rows) {
    const info = { id: r.id, entryId: r.entry_id, filename: r.filename, contentType: r.content_type, size: r.size };
    const key = r.entry_id ?? 0;
    out.set(key, [...(out.get(key) ?? []), info]);
  }
  return out;
}

/** An attachment row with its contents, or undefined. The caller has checked access to the ticket. */
export async function readAttachment(db: Knex | Knex.Transaction, attachmentId: number): Promise<{ ticketId: number; entryId: number | null; filename: string; contentType: string; data: Buffer } | undefined> {
  const row = await db('attachments as a').join('file_contents as c', 'c.file_id', 'a.file_id').where('a.id', attachmentId).first('a.ticket_id', 'a.entry_id', 'a.filename', 'a.content_type', 'c.data');
  if (!row) return undefined;
  return { ticketId: row.ticket_id, entryId: row.entry_id, filename: row.filename, contentType: safeContentType(row.content_type), data: Buffer.from(row.data) };
}
