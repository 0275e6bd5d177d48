/**
 * One pattern for every admin list: GET list, GET/POST new, GET/POST :id (edit), and POST
 * :id/<action> (disable, enable, delete and per-entity extras). Each entity supplies a config of
 * service calls and a field list; the views are shared (views/admin/crud/list.ejs and form.ejs).
 * Forms that fail validation are shown again with the input kept (422); a conflict (name taken,
 * still in use, last admin) is shown on the page with its message (409).
 */
import { Router, type Request, type Response } from 'express';
import type { ServiceContext } from '../../domain/context.ts';
import { Conflict, DomainError, NotFound, ValidationFailed, type FieldErrors } from '../../domain/errors.ts';
import type { Choice, Page } from '../../domain/admin/admin-support.ts';
import { ctxFrom } from '../shared/deps.ts';
import { flash, render } from '../shared/render.ts';
import { idParam, single } from '../shared/area.ts';

export interface FieldSpec {
  name: string;
  label: string;
  type?: 'text' | 'email' | 'number' | 'select' | 'textarea' | 'password' | 'color' | 'checkbox' | 'checkboxes' | 'readonly' | 'heading';
  /**
   * `implied` (checkbox lists): the option is included anyway, shown checked and disabled with this note.
   * `group` (checkbox lists): a sub-heading shown before the first option of each group (keep a group's options together).
   */
  options?: { value: string | number; label: string; implied?: string; group?: string }[];
  hint?: string;
  required?: boolean;
  maxlength?: number;
  /**
   * For checkboxes: the option whose value is the form's value of `field` is implied by it, so it is
   * shown checked and disabled with `note` (an agent's primary department among the extra ones).
   */
  impliedBy?: { field: string; note: string };
}

export interface ListRow {
  id: number;
  cells: string[];
  isActive: boolean;
  /** Status badge text; defaults to Active/Disabled. */
  status?: string;
}

export interface LoadedItem {
  values: Record<string, unknown>;
  name: string;
  isActive: boolean;
  /** Read-only facts shown above the form (label → text, and a link for the text). */
  facts?: [label: string, text: string, href?: string][];
  [extra: string]: unknown;
}

export interface ExtraAction {
  name: string;
  label: string;
  confirm?: string;
  danger?: boolean;
  when?: (item: LoadedItem) => boolean;
  run: (ctx: ServiceContext, id: number) => Promise<unknown>;
  done: string;
}

export interface CrudConfig {
  path: string;
  title: string;
  singular: string;
  columns: string[];
  search?: boolean;
  /** A new record's form values (or a function of the request's context: the agent form's default role). */
  defaults?: Record<string, unknown> | ((ctx: ServiceContext) => Promise<Record<string, unknown>>);
  /** Body fields never echoed back into a form (passwords). */
  secret?: string[];
  list: (ctx: ServiceContext, query: { q?: string; page?: string }) => Promise<{ rows: ListRow[]; page?: Page<unknown> }>;
  /** The form's fields; `item`: the record being edited (null for a new one). */
  fields: (ctx: ServiceContext, mode: 'new' | 'edit', item: LoadedItem | null) => Promise<FieldSpec[]>;
  load: (ctx: ServiceContext, id: number) => Promise<LoadedItem>;
  create: (ctx: ServiceContext, body: any) => Promise<{ id: number }>;
  update: (ctx: ServiceContext, id: number, body: any) => Promise<unknown>;
  setActive?: (ctx: ServiceContext, id: number, active: boolean) => Promise<unknown>;
  remove?: (ctx: ServiceContext, id: number) => Promise<unknown>;
  actions?: ExtraAction[];
}

/** Select options from a choice list: inactive entries are marked, an optional empty first entry. */
export function choiceOptions(list: Choice[], empty?: string): FieldSpec['options'] {
  const opts = list.map((c) => ({ value: c.id, label: c.isActive ? c.name : `${c.name} (disabled)` }));
  return empty === undefined ? opts : [{ value: '', label: empty }, ...opts];
}

/** Prev/next links for the pagination partial, keeping the other query parameters. */
export function pageNav(page: Page<unknown> | undefined, base: string, query: Record<string, string | undefined>) {
  if (!page) return null;
  const url = (n: number) => {
    const qs = new URLSearchParams(Object.entries({ ...query, page: String(n) }).filter(([, v]) => v) as [string, string][]);
    return `${base}?${qs}`;
  };
  return { page: page.page, pages: page.pages, pagesText: page.pagesText, total: page.totalText, prevUrl: page.page > 1 ? url(page.page - 1) : null, nextUrl: page.page < page.pages ? url(page.page + 1) : null };
}

/** A list's title as a noun inside a sentence: "Help topics" → "help topics", keeping "API keys" and "SLA plans". */
export function titleAsNoun(title: string): string {
  return title.split(' ').map((w) => (/^[A-Z]{2,}/.test(w) ? w : w.toLowerCase())).join(' ');
}


export function crudRoutes(cfg: CrudConfig): Router {
  const router = Router();
  const base = `/scp/admin/${cfg.path}`;
  const view = { path: cfg.path, base, title: cfg.title, noun: titleAsNoun(cfg.title), singular: cfg.singular, columns: cfg.columns, search: !!cfg.search };

  const scrub = (body: unknown) => {
    const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
    for (const k of ['_csrf', ...(cfg.secret ?? [])]) delete out[k];
    return out;
  };

  const actionsFor = (item: LoadedItem) => [
    ...(cfg.actions ?? []).filter((a) => !a.when || a.when(item)),
    ...(cfg.setActive ? [item.isActive
      ? { name: 'disable', label: 'Disable', confirm: `Disable ${item.name}? It stays in history but can no longer be chosen.` }
      : { name: 'enable', label: 'Enable' }] : []),
    ...(cfg.remove ? [{ name: 'delete', label: 'Delete', danger: true, confirm: `Delete ${item.name}? This cannot be undone.` }] : []),
  ];

  async function showForm(req: Request, res: Response, mode: 'new' | 'edit', extra: { errors?: FieldErrors; values?: Record<string, unknown>; problem?: string; status?: number } = {}) {
    const ctx = ctxFrom(req, res);
    const id = mode === 'edit' ? idParam(req) : null;
    const item = id ? await cfg.load(ctx, id) : null;
    const fields = await cfg.fields(ctx, mode, item);
    const title = item ? `${cfg.singular[0].toUpperCase()}${cfg.singular.slice(1)}: ${item.name}` : `New ${cfg.singular}`;
    await render(req, res, 'admin/crud/form', {
      cfg: view, heading: title, action: id ? `${base}/${id}` : base, fields, item, itemId: id, actions: item ? actionsFor(item) : [],
      values: extra.values ?? item?.values ?? (typeof cfg.defaults === 'function' ? await cfg.defaults(ctx) : cfg.defaults) ?? {}, errors: extra.errors ?? {}, problem: extra.problem,
    }, { title, status: extra.status });
  }

  /** Known failures of a form POST are shown on the form; anything else goes to the error handler. */
  async function onFormError(req: Request, res: Response, mode: 'new' | 'edit', err: unknown) {
    const values = scrub(req.body);
    if (err instanceof ValidationFailed) return showForm(req, res, mode, { errors: err.fields, values, status: 422 });
    if (err instanceof Conflict) {
      const fields = (err.details?.fields as FieldErrors | undefined) ?? {};
      return showForm(req, res, mode, { errors: fields, values, problem: Object.keys(fields).length ? undefined : err.message, status: 409 });
    }
    throw err;
  }

  // ## List
  router.get(`/${cfg.path}`, async (req, res) => {
    const q = single(req.query.q)?.slice(0, 100);
    const list = await cfg.list(ctxFrom(req, res), { q, page: single(req.query.page) });
    await render(req, res, 'admin/crud/list', { cfg: view, rows: list.rows, q: q ?? '', page: pageNav(list.page, base, { q }) }, { title: cfg.title });
  });
  // ## Create
  router.get(`/${cfg.path}/new`, (req, res) => showForm(req, res, 'new'));
  router.post([`/${cfg.path}`, `/${cfg.path}/new`], async (req, res) => {
    try {
      const created = await cfg.create(ctxFrom(req, res), req.body ?? {});
      flash(req, 'success', `The ${cfg.singular} was created.`);
      res.redirect(303, `${base}/${created.id}`);
    } catch (err) {
      await onFormError(req, res, 'new', err);
    }
  });
  // ## Edit
  router.get(`/${cfg.path}/:id`, (req, res) => showForm(req, res, 'edit'));
  router.post(`/${cfg.path}/:id`, async (req, res) => {
    const id = idParam(req);
    try {
      await cfg.update(ctxFrom(req, res), id, req.body ?? {});
      flash(req, 'success', 'Your changes were saved.');
      res.redirect(303, `${base}/${id}`);
    } catch (err) {
      await onFormError(req, res, 'edit', err);
    }
  });
  // ## Actions: disable, enable, delete, extras
  router.post(`/${cfg.path}/:id/:action`, async (req, res) => {
    const id = idParam(req);
    const ctx = ctxFrom(req, res);
    const action = String(req.params.action);
    const extra = cfg.actions?.find((a) => a.name === action);
    let done: string;
    try {
      if (extra) await extra.run(ctx, id), (done = extra.done);
      else if ((action === 'disable' || action === 'enable') && cfg.setActive) await cfg.setActive(ctx, id, action === 'enable'), (done = `The ${cfg.singular} was ${action}d.`);
      else if (action === 'delete' && cfg.remove) await cfg.remove(ctx, id), (done = `The ${cfg.singular} was deleted.`);
      else throw new NotFound('We could not find that page.');
    } catch (err) {
      if (!(err instanceof DomainError) || err.status !== 409) throw err;
      return showForm(req, res, 'edit', { problem: err.message, status: 409 });
    }
    flash(req, 'success', done);
    res.redirect(303, action === 'delete' ? base : `${base}/${id}`);
  });
  return router;
}
