/** The JSON API at /api/v1 (docs/openapi.yaml): JSON in, JSON out, JSON errors. */
import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { deleteTicketForApi, runTicketActionForApi } from '../../domain/api/api-ticket-actions.ts';
import { getTicketForApi, listTicketsForApi } from '../../domain/api/api-ticket-queries.ts';
import { createTicketFromJson } from '../../domain/api/api-ticket-service.ts';
import { DomainError, ValidationFailed } from '../../domain/errors.ts';
import { single } from '../shared/area.ts';
import { ctxFrom, type AppDeps } from '../shared/deps.ts';
import { classifyError } from '../shared/error-handler.ts';
import { clientGone, logRefusal, requestAborted, requireApiKey } from './api-middleware.ts';

/** A POST must send JSON (415 otherwise); the parsed body is then at most 1 MB (413 beyond). */
function jsonBody(): express.RequestHandler[] {
  const parse = express.json({ limit: '1mb', strict: true });
  return [
    (req, _res, next) => {
      if (req.headers['content-length'] !== '0' && (req.headers['content-length'] || req.headers['transfer-encoding']) && !req.is('application/json'))
        return next(new DomainError('UNSUPPORTED_MEDIA_TYPE', 415, 'Send the body as application/json.'));
      next();
    },
    parse,
    (req, _res, next) => next(clientGone(req) ? requestAborted() : undefined),
  ];
}

export function apiV1Router(d: AppDeps): Router {
  const router = Router();
  const manage = [requireApiKey(d, 'manage')];
  const create = [requireApiKey(d, 'create')];

  // ## Tickets
  router.get('/tickets', ...manage, async (req: Request, res: Response) => {
    const q = req.query as Record<string, unknown>;
    const keys = ['status', 'state', 'source', 'departmentId', 'priorityId', 'topicId', 'assigneeId', 'email', 'updatedSince', 'limit', 'cursor'] as const;
    res.json(await listTicketsForApi(ctxFrom(req, res), Object.fromEntries(keys.map((k) => [k, single(q[k])]))));
  });
  router.post('/tickets', ...create, ...jsonBody(), async (req: Request, res: Response) => {
    const t = await createTicketFromJson(ctxFrom(req, res), req.body);
    res.status(201).location(`/api/v1/tickets/${t.number}`).json({ id: t.id, number: t.number, extraKeys: t.extraKeys });
  });
  router.get('/tickets/:number', ...manage, async (req: Request, res: Response) => {
    res.json(await getTicketForApi(ctxFrom(req, res), String(req.params.number)));
  });
  router.delete('/tickets/:number', ...manage, async (req: Request, res: Response) => {
    res.json(await deleteTicketForApi(ctxFrom(req, res), String(req.params.number), { ban: single((req.query as Record<string, unknown>).ban) }));
  });
  router.post('/tickets/:number/:action', ...manage, ...jsonBody(), async (req: Request, res: Response) => {
    const r = await runTicketActionForApi(ctxFrom(req, res), String(req.params.number), String(req.params.action), req.body);
    res.status(r.entryId ? 201 : 200).json(r);
  });

  router.use((_req, _res, next) => next(new DomainError('NOT_FOUND', 404, 'No such endpoint.')));
  router.use(jsonErrorHandler());
  return router;
}

/** `{ "error": { "code", "message", "fields"? } }` with the error's status; never a stack trace. */
function jsonErrorHandler(): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const c = classifyError(err);
    if (c.internal) req.log?.error({ err }, 'api error');
    else if (c.code === 'REQUEST_ABORTED') logRefusal(req, c);
    const body: Record<string, unknown> = { code: c.code, message: c.message };
    if (err instanceof ValidationFailed) body.fields = err.fields;
    if (err instanceof DomainError && err.details?.currentVersion !== undefined) body.currentVersion = err.details.currentVersion;
    res.status(c.status).json({ error: body });
  };
}
