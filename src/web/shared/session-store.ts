/**
 * express-session store on the `sessions` table (both dialects), so any number of processes share
 * sessions and a restart keeps everyone signed in. Expired rows are pruned lazily.
 */
import session from 'express-session';
import type { Knex } from 'knex';
import { dbDate, jsonObject, toDbDate } from '../../db/dialect.ts';
import { primeSettings, settingsColumn } from '../../domain/settings/settings-service.ts';
import { primeAgentActor, withAgentActor } from '../../domain/agents/agent-queries.ts';
import { requestMemo } from '../../domain/request-memo.ts';
import { primeSessionUser, withSessionUser } from '../../domain/users/user-service.ts';

type Cb<T = unknown> = (err?: any, value?: T) => void;

/**
 * `rolling` sessions are touched on every request; the row's expiry is rewritten only when it would
 * move by more than this, so a busy agent costs one UPDATE a minute instead of one per request.
 * (The idle timeout is then exact to within a minute.)
 */
export const TOUCH_SLACK_MS = 60_000;

/** What a session holds apart from its cookie (whose expiry moves on every request). */
function dataOf(sess: session.SessionData): string {
  const { cookie: _cookie, ...data } = sess;
  return JSON.stringify(data);
}

type SessionRow = { sess: string; expires_at: string; agent_id: number | null; user_id: number | null };

/**
 * The session `sid` and the settings as scalar subqueries, for a statement the request makes before
 * its session is read (a limited form's rate-limit hit: limitsBeforeSession): the store's get() of
 * that id then takes them instead of reading (takeSessionAlong).
 */
export function sessionAlongColumns(db: Knex, sid: string): Knex.Raw[] {
  const col = (name: string) => db.raw('(?) as ??', [db('sessions').where('sid', sid).select(name), `session_${name}`]);
  // The session's portal user as one JSON column, with the names withSessionUser gives its columns.
  const user = db('sessions as s').join('users as u', 'u.id', 's.user_id').where('s.sid', sid)
    .select(db.raw('json_object(?, ??, ?, ??, ?, ??)', ['pu_id', 'u.id', 'pu_email', 'u.email', 'pu_name', 'u.name']));
  return [col('sess'), col('expires_at'), col('agent_id'), db.raw('(?) as ??', [user, 'session_user']), settingsColumn(db)];
}

/**
 * The row read along for `sid` in this request, once. Not for a session of a signed-in agent (the
 * agent's access rides on the store's own read: withAgentActor), nor for any other id.
 */
function takeSessionAlong(sid: string): Record<string, unknown> | undefined {
  const memo = requestMemo();
  const along = memo?.sessionAlong;
  if (!along?.row || along.sid !== sid) return undefined;
  memo!.sessionAlong = undefined;
  const r = along.row;
  if (r.session_agent_id !== null && r.session_agent_id !== undefined) return undefined;
  let user: Record<string, unknown> = {};
  try {
    user = jsonObject(r.session_user);
  } catch {
    // not an object: the user is read on its own (loadSessionUser)
  }
  return { sess: r.session_sess, expires_at: r.session_expires_at, settings_rows: r.settings_rows, ...user };
}

export class KnexSessionStore extends session.Store {
  private lastPrune = 0;
  /** expires_at of rows read by get() in requests still running (sid → ms); consumed by touch/set/destroy. */
  private readonly loaded = new Map<string, number>();
  /** Sessions given a new id in a request still running whose row is still stored under the old id (new sid → old sid); consumed by set/destroy. */
  private readonly rotated = new Map<string, string>();
  /** What set() wrote for a session object (it lives as long as its request): express-session saves a regenerated session again at the end of the response, and that identical write is skipped. */
  private readonly written = new WeakMap<object, { sid: string; data: string; expires: number }>();
  /** Installed on the store by express-session's middleware: a new id and an empty session on `req`. */
  declare generate: (req: Parameters<session.Store['regenerate']>[0]) => void;
  constructor(private readonly db: Knex, private readonly clock: () => Date = () => new Date()) {
    super();
  }

  private expiry(sess: session.SessionData): Date {
    const maxAge = sess.cookie?.maxAge ?? 24 * 3600 * 1000;
    return new Date(this.clock().getTime() + maxAge);
  }

  get(sid: string, cb: Cb<session.SessionData | null>): void {
    this.read(sid)
      .then((row) => {
        if (!row) return cb(null, null);
        const exp = dbDate(row.expires_at);
        if (exp && exp <= this.clock()) return cb(null, null);
        primeAgentActor(row);
        if (exp) {
          if (this.loaded.size > 10_000) this.loaded.clear();
          this.loaded.set(sid, exp.getTime());
        }
        cb(null, JSON.parse(String(row.sess)));
      })
      .catch(cb);
  }

  /**
   * The row of `sid`, with the request's settings and signed-in agent (primeSettings; primeAgentActor
   * above); on a limited form, the row its rate-limit hit read already (takeSessionAlong).
   */
  private async read(sid: string): Promise<Record<string, unknown> | undefined> {
    const along = takeSessionAlong(sid);
    const row = along ?? (await withSessionUser(withAgentActor(this.db, this.db('sessions').where('sessions.sid', sid).select('sessions.*', settingsColumn(this.db)), 'sessions.agent_id'), 'sessions.user_id').first());
    if (row) primeSettings(row.settings_rows);
    primeSessionUser(row);
    return row?.sess === null || row?.sess === undefined ? undefined : row;
  }

  /**
   * A new session id with nothing from before (login, privilege change, a ticket granted to a portal
   * session), without a statement: the next set() moves the stored row to the new id in one UPDATE,
   * so the old id stops working as the new one starts. (express-session's own regenerate DELETEs the
   * old row first, then the new one is written.)
   */
  regenerate(req: Parameters<session.Store['regenerate']>[0], fn: (err?: any) => void): void {
    const from = this.rotated.get(req.sessionID) ?? req.sessionID;
    this.rotated.delete(req.sessionID);
    this.loaded.delete(req.sessionID);
    this.generate(req);
    this.rotated.set(req.sessionID, from);
    fn();
  }

  set(sid: string, sess: session.SessionData, cb?: Cb): void {
    this.loaded.delete(sid);
    const data = dataOf(sess);
    const expires = this.expiry(sess).getTime();
    const last = this.written.get(sess);
    if (last?.sid === sid && last.data === data && Math.abs(expires - last.expires) < TOUCH_SLACK_MS) return void cb?.();
    const s = sess as session.SessionData & { agentId?: number; userId?: number };
    const row = { sess: JSON.stringify(sess), expires_at: toDbDate(new Date(expires)), agent_id: s.agentId ?? null, user_id: s.userId ?? null };
    this.write(sid, row, this.rotated.get(sid))
      .then(() => {
        this.rotated.delete(sid);
        this.written.set(sess, { sid, data, expires });
      })
      .then(() => this.prune())
      .then(() => cb?.())
      .catch((e) => cb?.(e));
  }

  /** Writes the row of `sid`; a regenerated session's row moves from its old id (an INSERT when there was none). */
  private async write(sid: string, row: SessionRow, from: string | undefined): Promise<void> {
    if (from && from !== sid && (await this.db('sessions').where({ sid: from }).update({ sid, ...row }))) return;
    await this.db('sessions').insert({ sid, ...row }).onConflict('sid').merge(row);
  }

  destroy(sid: string, cb?: Cb): void {
    this.loaded.delete(sid);
    const from = this.rotated.get(sid);
    this.rotated.delete(sid);
    this.db('sessions').whereIn('sid', from ? [sid, from] : [sid]).delete().then(() => cb?.()).catch((e) => cb?.(e));
  }

  touch(sid: string, sess: session.SessionData, cb?: Cb): void {
    const stored = this.loaded.get(sid);
    this.loaded.delete(sid);
    const expiry = this.expiry(sess);
    if (stored !== undefined && Math.abs(expiry.getTime() - stored) < TOUCH_SLACK_MS) return void cb?.();
    this.db('sessions').where({ sid }).update({ expires_at: toDbDate(expiry) }).then(() => cb?.()).catch((e) => cb?.(e));
  }

  private async prune(): Promise<void> {
    const now = this.clock().getTime();
    if (now - this.lastPrune < 10 * 60_000) return;
    this.lastPrune = now;
    await this.db('sessions').where('expires_at', '<', toDbDate(this.clock())).delete();
  }
}

/** Ends every session of an agent (or user) except `keepSid`: logout everywhere, password change. */
export async function destroyOtherSessions(db: Knex | Knex.Transaction, who: { agentId?: number; userId?: number }, keepSid?: string): Promise<number> {
  const q = db('sessions');
  if (who.agentId) q.where('agent_id', who.agentId);
  else if (who.userId) q.where('user_id', who.userId);
  else return 0;
  if (keepSid) q.whereNot('sid', keepSid);
  return q.delete();
}
