/**
 * Ticket creation through the osTicket-compatible API (tickets.json / tickets.xml) and the JSON API.
 * The request is read into openTicket's input, so filters, defaults, SLA, events and mail behave as
 * for the portal. Fields osTicket's forms would take (custom fields, `notes`…) are kept in
 * `tickets.extra` and reported back so the caller can log them, as osTicket logs unexpected keys.
 */
import net from 'node:net';
import type { ApiActor } from '../actor.ts';
import type { ServiceContext } from '../context.ts';
import { BadRequest, Forbidden, Unauthenticated, ValidationFailed } from '../errors.ts';
import type { UploadedFile } from '../tickets/attachment-service.ts';
import { openTicket, type OpenTicketInput } from '../tickets/ticket-service.ts';
import { SOURCES } from '../tickets/ticket-status.ts';
import { ticketFieldDefs } from '../fields/ticket-field-values.ts';
import { getSettings } from '../settings/settings-service.ts';
import { decodeBase64Strict, decodeText, messageText, parseDataUrl } from './api-content.ts';
import { parseXmlTicket, type XmlFile } from './api-xml.ts';

/** What a key may do: create tickets (osTicket's can_create_tickets) or manage them (the JSON API). */
export type ApiPermission = 'create' | 'manage';

/**
 * The acting API key, if it has `perm`. @throws Forbidden API_KEY_NOT_AUTHORIZED (osTicket answers 401 here)
 */
export function assertApiKeyMay(actor: ServiceContext['actor'], perm: ApiPermission): ApiActor {
  if (actor.kind !== 'api') throw new Unauthenticated('Valid API key required', 'API_KEY_REQUIRED');
  if (perm === 'create' ? !actor.canCreateTickets : !actor.canManageTickets) throw new Forbidden('API key not authorized', 'API_KEY_NOT_AUTHORIZED');
  return actor;
}

const KNOWN = new Set(['name', 'email', 'subject', 'message', 'phone', 'ip', 'source', 'topicId', 'priority', 'priorityId', 'alert', 'autorespond', 'attachments', 'fields']);
const EXTRA_MAX_BYTES = 60_000; // tickets.extra is TEXT (64 KB on MySQL)
const EXTRA_MAX_KEYS = 100;

export interface ApiTicketCreated {
  id: number;
  number: string;
  /** Fields kept in tickets.extra (osTicket logs them as unexpected data). */
  extraKeys: string[];
}

/** osTicket casts alert/autorespond to a boolean; absent (or null) means true. */
function flag(v: unknown, field: string): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return !['', '0', 'false', 'no', 'off'].includes(v.trim().toLowerCase());
  throw new ValidationFailed({ [field]: 'Must be true or false' });
}

/** An id given as a number or numeric text (arrays, objects and booleans are refused). */
function idValue(v: unknown, field: string): string | number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if ((typeof v === 'number' && Number.isInteger(v) && v > 0) || (typeof v === 'string' && /^\s*\d+\s*$/.test(v))) return v;
  throw new ValidationFailed({ [field]: 'Must be a numeric id' });
}

function sourceValue(v: unknown): OpenTicketInput['source'] {
  if (v === undefined || v === null || v === '') return 'api';
  const s = typeof v === 'string' ? v.trim().toLowerCase() : '';
  const hit = SOURCES.find((x) => x === s);
  if (!hit) throw new ValidationFailed({ source: `Must be one of: ${SOURCES.join(', ')}` });
  return hit;
}

function ipValue(v: unknown, fallback: string | undefined): string | undefined {
  if (v === undefined || v === null || v === '') return fallback?.replace(/^::ffff:/, '');
  if (typeof v !== 'string' || !net.isIP(v.trim())) throw new ValidationFailed({ ip: 'Must be an IP address' });
  return v.trim();
}

/** JSON message: text, or an RFC 2397 data URL (data:text/html,… is turned into text). */
function jsonMessage(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const d = parseDataUrl(v);
  if (!d) throw new ValidationFailed({ message: 'Poorly encoded base64 data' });
  const text = v.startsWith('data:') ? decodeText(d.data, d.charset, 'message') : v;
  return messageText(text, d.type);
}

/** JSON attachments: a list of {"<filename>": "data:<mime>;base64,<data>"} objects. */
function jsonFiles(v: unknown): UploadedFile[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ValidationFailed({ attachments: 'Must be a list of {"filename": "data:…"} objects' });
  return v.map((entry, i) => {
    const first = entry && typeof entry === 'object' && !Array.isArray(entry) ? Object.entries(entry)[0] : undefined;
    if (!first || typeof first[1] !== 'string') throw new ValidationFailed({ [`attachments.${i}`]: 'Must be a {"filename": "data:…"} object' });
    const d = parseDataUrl(first[1]);
    if (!d) throw new ValidationFailed({ [`attachments.${i}`]: `${first[0]}: Poorly encoded base64 data` });
    return { filename: first[0], contentType: d.type, data: d.data };
  });
}

/** XML attachments: <file name= type= encoding="base64">…</file>. */
function xmlFiles(files: XmlFile[] | undefined): UploadedFile[] {
  return (files ?? []).map((f, i) => {
    if (typeof f.name !== 'string' || !f.name.trim()) throw new ValidationFailed({ [`attachments.${i}`]: 'A file needs a name' });
    const base64 = typeof f.encoding === 'string' && f.encoding.toLowerCase() === 'base64';
    const data = base64 ? decodeBase64Strict(f.data) : Buffer.from(f.data, 'utf8');
    if (!data) throw new ValidationFailed({ [`attachments.${i}`]: `${f.name}: Poorly encoded base64 data` });
    return { filename: f.name, contentType: typeof f.type === 'string' && f.type ? f.type : 'text/plain', data };
  });
}

function extraOf(req: Record<string, unknown>, fieldKeys: Set<string>): Record<string, unknown> | undefined {
  const entries = Object.entries(req).filter(([k]) => !KNOWN.has(k) && !fieldKeys.has(k));
  if (!entries.length) return undefined;
  const extra = Object.fromEntries(entries);
  if (entries.length > EXTRA_MAX_KEYS || Buffer.byteLength(JSON.stringify(extra)) > EXTRA_MAX_BYTES)
    throw new ValidationFailed({ extra: 'Too many or too large custom fields' });
  return extra;
}

/** Creates the ticket from a request already read into fields, message text and files. */
async function create(ctx: ServiceContext, req: Record<string, unknown>, message: unknown, files: UploadedFile[]): Promise<ApiTicketCreated> {
  // Custom fields: osTicket's way, a top-level key named after the field, or a `fields` object (which wins).
  const fieldKeys = new Set((await ticketFieldDefs(ctx.db, await getSettings(ctx.db))).map((f) => f.name));
  if (req.fields !== undefined && (!req.fields || typeof req.fields !== 'object' || Array.isArray(req.fields))) throw new ValidationFailed({ fields: 'Must be an object of {"key": value}' });
  const fields = { ...Object.fromEntries(Object.entries(req).filter(([k]) => fieldKeys.has(k) && !KNOWN.has(k))), ...(req.fields as Record<string, unknown> | undefined) };
  const extra = extraOf(req, fieldKeys);
  const phone = typeof req.phone === 'string' || typeof req.phone === 'number' ? String(req.phone).trim().toUpperCase() : req.phone;
  const t = await openTicket(ctx, {
    name: req.name as string, email: req.email as string, subject: req.subject as string, message: message as string,
    phone: phone as string | undefined, source: sourceValue(req.source), ip: ipValue(req.ip, ctx.ip),
    topicId: idValue(req.topicId, 'topicId') as number | undefined,
    priorityId: (idValue(req.priorityId, 'priorityId') ?? idValue(req.priority, 'priority')) as number | undefined,
    alertAgents: flag(req.alert, 'alert'), notifyUser: flag(req.autorespond, 'autorespond'), extra, fields,
  }, files);
  return { id: t.id, number: t.number, extraKeys: Object.keys(extra ?? {}) };
}

/** A parsed JSON request (the JSON API hands its parsed body here). @throws BadRequest, ValidationFailed, Forbidden */
export async function createTicketFromJson(ctx: ServiceContext, body: unknown): Promise<ApiTicketCreated> {
  assertApiKeyMay(ctx.actor, 'create');
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new BadRequest('The request body must be a JSON object', 'JSON_NOT_OBJECT');
  const req = body as Record<string, unknown>;
  return create(ctx, req, jsonMessage(req.message), jsonFiles(req.attachments));
}

/**
 * POST /api/tickets.json|.xml: the raw body in osTicket's format.
 * @throws Forbidden API_KEY_NOT_AUTHORIZED, BadRequest (unreadable body), ValidationFailed, Forbidden USER_BANNED
 */
export async function createTicketFromApi(ctx: ServiceContext, format: 'json' | 'xml', raw: Buffer): Promise<ApiTicketCreated> {
  assertApiKeyMay(ctx.actor, 'create');
  if (!raw.length) throw new BadRequest('Empty request body', 'EMPTY_BODY');
  if (format === 'json') {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new BadRequest('Syntax error, malformed JSON', 'JSON_INVALID');
    }
    return createTicketFromJson(ctx, body);
  }
  const req = parseXmlTicket(raw);
  const { message, attachments, ...rest } = req;
  return create(ctx, rest, message ? messageText(message.body, message.type) : undefined, xmlFiles(attachments));
}
