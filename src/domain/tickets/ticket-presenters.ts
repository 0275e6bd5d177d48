/** Turns ticket rows into what agent pages show: dates in the help desk's zone, events as sentences. */
import { DateTime } from 'luxon';
import { STATUS_LABELS, type TicketStatus } from './ticket-status.ts';

/** One formatter per zone: building an Intl.DateTimeFormat costs far more than using one. */
const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatterFor(timezone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(timezone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
    } catch {
      f = null; // not a zone Intl knows: luxon says so below
    }
    formatters.set(timezone, f);
  }
  return f;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A zone's offset from UTC and its short name through one UTC hour, or null when either changes in it. */
type HourInZone = { offsetMs: number; name: string } | null;
/** Per zone, by UTC hour (ms / HOUR): one formatToParts call per hour of dates shown, not one per date. */
const hoursInZone = new Map<string, Map<number, HourInZone>>();
const MAX_CACHED_HOURS = 50_000;

function wallClock(f: Intl.DateTimeFormat, t: number): { ms: number; name: string; year: string; p: Record<string, string> } {
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(t)) p[part.type] = part.value;
  return { ms: Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute)), name: p.timeZoneName, year: p.year, p };
}

function hourInZone(f: Intl.DateTimeFormat, timezone: string, hour: number): HourInZone {
  let hours = hoursInZone.get(timezone);
  if (!hours) hoursInZone.set(timezone, (hours = new Map()));
  let h = hours.get(hour);
  if (h !== undefined) return h;
  const start = hour * HOUR;
  const a = wallClock(f, start);
  const b = wallClock(f, start + 30_000); // the same minute unless the offset has seconds (Monrovia until 1972)
  const c = wallClock(f, start + HOUR - MINUTE); // the same offset and name unless they change within the hour
  const offsetMs = a.ms - start;
  const steady = b.ms === a.ms && c.ms - (start + HOUR - MINUTE) === offsetMs && c.name === a.name && a.year.length === 4 && Math.abs(offsetMs) <= 18 * HOUR;
  h = steady ? { offsetMs, name: a.name } : null;
  if (hours.size >= MAX_CACHED_HOURS) hours.clear();
  hours.set(hour, h);
  return h;
}

const two = (n: number) => (n < 10 ? '0' : '') + n;

/**
 * '2026-03-02 11:00 UTC' in `timezone` (as luxon's 'yyyy-MM-dd HH:mm ZZZZ' in en-US); '' for no date.
 * A cached Intl.DateTimeFormat reads the zone's offset and name once per UTC hour; the dates of that
 * hour are then plain arithmetic (formatToParts on every date was 5 % of a queue page's CPU, luxon 3.7 %
 * before that).
 */
export function formatDate(d: Date | null | undefined, timezone: string): string {
  if (!d) return '';
  const f = formatterFor(timezone);
  const t = d.getTime();
  if (!f || Number.isNaN(t)) return DateTime.fromJSDate(d, { zone: timezone }).setLocale('en-US').toFormat('yyyy-MM-dd HH:mm ZZZZ');
  const h = hourInZone(f, timezone, Math.floor(t / HOUR));
  if (h) {
    const w = new Date(t + h.offsetMs);
    return `${w.getUTCFullYear()}-${two(w.getUTCMonth() + 1)}-${two(w.getUTCDate())} ${two(w.getUTCHours())}:${two(w.getUTCMinutes())} ${h.name}`;
  }
  const { p } = wallClock(f, t);
  return `${p.year.padStart(4, '0')}-${p.month}-${p.day} ${p.hour}:${p.minute} ${p.timeZoneName}`;
}

/** File sizes as people read them. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 102.4) / 10} KB`;
  return `${Math.round(bytes / 1024 / 102.4) / 10} MB`;
}

const statusLabel = (s: unknown) => STATUS_LABELS[s as TicketStatus] ?? String(s ?? '');
const orNone = (v: unknown) => (v === null || v === undefined || v === '' ? 'none' : String(v));

/**
 * One sentence per event ("Transferred from Support to Online Banking"). `names` resolves agent
 * ids that older events stored without a name; `fmt` formats ISO dates stored in event data.
 */
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
/** A span of working time in minutes, as "3 h 20 min" / "45 min". */
const waited = (minutes: number) => (minutes >= 60 ? `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}` : plural(minutes, 'minute', 'minutes'));

export function describeEvent(event: string, data: Record<string, any>, names: Map<number, string>, fmt: (iso: string | null) => string): string {
  switch (event) {
    case 'created':
      return `Ticket opened${data.source ? ` (source: ${data.source})` : ''}`;
    case 'message':
      return data.source === 'email' ? 'Wrote by email' : 'Posted a message';
    case 'response':
      return data.notified === false ? 'Posted a reply (not emailed to the user)' : data.ccs === false ? 'Posted a reply (emailed to the requester only)' : 'Posted a reply';
    case 'note':
      return 'Added an internal note';
    case 'requester_changed': {
      const who = (p: any) => (p ? `${p.name ?? ''} <${p.email ?? ''}>` : 'nobody');
      return `Requester changed from ${who(data.from)} to ${who(data.to)}${data.keptAsCc ? `; ${data.from?.name ?? 'the former requester'} stays on as a CC` : ''}`;
    }
    case 'assigned':
      return `Assigned to ${data.agentName ?? names.get(Number(data.to)) ?? 'an agent'}${data.fromName ? ` (was ${data.fromName})` : ''}${data.by === 'organization' ? ' as the account manager of the requester’s organization' : ''}`;
    case 'team_assigned':
      return `Assigned to team ${data.teamName ?? ''}${data.fromName ? ` (was ${data.fromName})` : ''}`;
    case 'claimed':
      return data.by === 'reply' ? 'Claimed the ticket by replying' : 'Claimed the ticket';
    case 'released':
      return `Released the ticket${[data.agentName, data.teamName ? `team ${data.teamName}` : null].filter(Boolean).length ? ` (was ${[data.agentName, data.teamName ? `team ${data.teamName}` : null].filter(Boolean).join(', ')})` : ''}`;
    case 'transferred':
      return `Transferred from ${orNone(data.from)} to ${orNone(data.to)}`;
    case 'priority_changed':
      return `Priority changed from ${orNone(data.from)} to ${orNone(data.to)}`;
    case 'sla_changed':
      return `SLA plan changed from ${orNone(data.from)} to ${orNone(data.to)}${data.slaDueAt ? `; SLA due ${fmt(data.slaDueAt)}` : ''}`;
    case 'due_changed':
      return data.to ? `Due date set by hand to ${fmt(data.to)}` : 'Manual due date removed; the SLA due date applies';
    case 'overdue':
      return data.target === 'first_response' ? `Marked overdue: no first response by ${fmt(data.dueAt)}`
        : data.target === 'next_response' ? `Marked overdue: the requester's message was not answered by ${fmt(data.dueAt)}` : 'Marked overdue';
    case 'overdue_cleared':
      return data.by === 'first_response' ? 'Overdue flag cleared by the first response' : data.by === 'next_response' ? 'Overdue flag cleared by the reply' : 'Overdue flag cleared';
    case 'resolved':
    case 'closed':
    case 'reopened':
    case 'status_changed': {
      // The SLA clock of a ticket waiting on the requester (sla-pause.ts): stopped on the way in, moved on the way out.
      const clock = data.to === 'pending' && data.slaPaused ? '; SLA clock stopped'
        : data.slaPausedMinutes !== undefined ? `; SLA clock running again after ${waited(Number(data.slaPausedMinutes))} of working time waited${data.slaDueAt ? `, SLA due ${fmt(data.slaDueAt)}` : ''}` : '';
      if (data.by === 'auto_close') return `Closed after ${plural(Number(data.days), 'day', 'days')} waiting on the requester without an answer${clock}`;
      if (data.by === 'close_request') return `The requester asked to close it: no longer waiting${clock}`;
      if (data.by === 'user_reply') return (data.from === 'pending' ? 'The requester answered: no longer waiting' : 'Reopened by the user’s message') + clock;
      return `Status changed from ${statusLabel(data.from)} to ${statusLabel(data.to)}${data.by === 'user' ? ' by the requester' : ''}${clock}`;
    }
    case 'cc_added':
      return `${data.by === 'email' ? 'CC added from the email’s recipients' : data.by === 'merge' ? 'CC added from the merged ticket' : data.by === 'organization' ? 'CC added from the requester’s organization' : data.by === 'requester' ? 'CC added by the requester' : 'CC added'}: ${data.name ?? ''} <${data.email ?? ''}>`;
    case 'merged':
      return data.into
        ? `Merged into #${data.into} (${plural(Number(data.entries ?? 0), 'thread entry', 'thread entries')} moved there); closed`
        : `Ticket #${data.from} “${data.subject ?? ''}” merged into this one (${plural(Number(data.entries ?? 0), 'thread entry', 'thread entries')} moved here)`;
    case 'merge_target_deleted':
      return `#${data.number ?? ''}, the ticket this one was merged into, was deleted (with the thread entries moved there)${data.into ? `; it had been merged into #${data.into}, where this ticket leads now` : ''}`;
    case 'close_requested':
      return `Requester asked to close; ${plural(Number(data.openTasks ?? 0), 'task', 'tasks')} open (the ticket stays open until they are done)`;
    case 'task_added':
      return `Task added: “${data.title ?? ''}”${data.assignee ? ` for ${data.assignee}` : ''}${data.dueAt ? `, due ${fmt(data.dueAt)}` : ''}`;
    case 'task_done':
      return `Task done: “${data.title ?? ''}”`;
    case 'task_reopened':
      return `Task opened again: “${data.title ?? ''}”`;
    case 'task_removed':
      return `Task removed: “${data.title ?? ''}”`;
    case 'filter_applied':
      return `Filter “${data.filter ?? ''}” applied: ${Array.isArray(data.actions) && data.actions.length ? data.actions.join('; ') : 'nothing (what it sets is disabled)'}${data.notAssigned ? ' (its agent does not work in this department: not assigned)' : ''}`;
    case 'fields_changed':
      return (Array.isArray(data.changes) ? data.changes : [])
        .map((c: any) => (c?.to === null || c?.to === undefined ? `${c?.field ?? 'Field'} cleared (was “${c?.from ?? ''}”)` : `${c?.field ?? 'Field'} set to “${c.to}”${c?.from ? ` (was “${c.from}”)` : ''}`))
        .join('; ') || 'Custom fields changed';
    case 'cc_removed':
      return `CC removed${data.by === 'requester' ? ' by the requester' : ''}: ${data.name ?? ''} <${data.email ?? ''}>`;
    case 'entry_edited': {
      const what = data.kind === 'message' ? 'The requester’s message' : data.kind === 'note' ? 'An internal note' : 'A reply';
      return `${what} was edited${data.redacted ? '; the earlier text was removed for good' : ''}`;
    }
    case 'edited':
      return Object.entries(data)
        .map(([k, v]: [string, any]) => `${k === 'topic' ? 'Help topic' : 'Subject'} changed from “${orNone(v?.from)}” to “${orNone(v?.to)}”`)
        .join('; ');
    default:
      return event.replace(/_/g, ' ');
  }
}
