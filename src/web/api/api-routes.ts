/**
 * The REST API at /api: key-authenticated, no session, no CSRF.
 * - osTicket-compatible ticket creation: POST /api/tickets.json|.xml|.email (also /api/http.php/…),
 *   answered as osTicket answers: 201 with the ticket number as plain text, errors as plain text.
 * - The JSON API at /api/v1 (docs/openapi.yaml), with JSON errors.
 */
import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { createTicketFromApi } from '../../domain/api/api-ticket-service.ts';
import { receiveApiEmail } from '../../domain/api/api-mail-service.ts';
import { DomainError, ValidationFailed } from '../../domain/errors.ts';
import { ctxFrom, type AppDeps } from '../shared/deps.ts';
import { classifyError } from '../shared/error-handler.ts';
import { logRefusal, readRawBody, requireApiKey } from './api-middleware.ts';
import { apiV1Router } from './api-v1-routes.ts';

const FORMATS = ['json', 'xml', 'email'];

export function apiRouter(d: AppDeps): Router {
  const router = Router();
  router.use('/v1', apiV1Router(d));

  // ## osTicket-compatible ticket creation
  const create = [requireApiKey(d, 'create'), readRawBody(d)];
  router.post(['/tickets.:format', '/http.php/tickets.:format'], ...create, async (req: Request, res: Response) => {
    const format = String(req.params.format).toLowerCase();
    if (!FORMATS.includes(format)) throw new DomainError('UNSUPPORTED_FORMAT', 415, 'Unsupported data format');
    if (format === 'email') return sendMailOutcome(req, res, await receiveApiEmail(ctxFrom(req, res), req.body));
    const t = await createTicketFromApi(ctxFrom(req, res), format as 'json' | 'xml', req.body);
    if (t.extraKeys.length) req.log?.warn({ fields: t.extraKeys, ticket: t.number }, 'API request with unexpected fields, kept on the ticket');
    res.status(201).type('text').send(t.number);
  });

  router.use((_req, res) => {
    res.status(404).type('text').send('Not found');
  });
  router.use(legacyErrorHandler());
  return router;
}

/**
 * The pipeline's outcome, answered as osTicket answers a piped mail: 201 + the ticket number (new or
 * threaded); 202 when deliberately ignored (duplicate, bounce, auto-reply to a ticket); a refusal by
 * its reason: banned sender or a ticket filter's refusal 403 "Ticket denied", too large 413, sender flood 429, anything else 400.
 */
function sendMailOutcome(req: Request, res: Response, r: { outcome: string; ticketNumber?: string; reason?: string }) {
  if ((r.outcome === 'created' || r.outcome === 'threaded') && r.ticketNumber) return res.status(201).type('text').send(r.ticketNumber);
  req.log?.info({ outcome: r.outcome, reason: r.reason }, 'API email not turned into a ticket');
  const reason = r.reason ?? '';
  if (r.outcome === 'ignored') return res.status(202).type('text').send(`Message ignored${reason ? `: ${reason}` : ''}`);
  if (reason === 'banned' || reason.startsWith('USER_BANNED') || reason.startsWith('TICKET_REJECTED')) return res.status(403).type('text').send('Ticket denied');
  if (reason === 'too_large') return res.status(413).type('text').send('The request is too large.');
  if (reason === 'rate_limited') return res.status(429).type('text').send('Too many messages from this sender. Please try again later.');
  res.status(400).type('text').send(`Unable to create new ticket: ${reason || 'message refused'}`);
}

/** Plain-text errors, with osTicket's statuses and wording where a client may depend on them. */
function legacyErrorHandler(): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const c = classifyError(err);
    if (c.internal) req.log?.error({ err }, 'api error');
    else logRefusal(req, c);
    if (err instanceof ValidationFailed) {
      const lines = Object.entries(err.fields).map(([k, v]) => `${k}: ${v}`);
      return res.status(400).type('text').send(['Unable to create new ticket: validation errors:', ...lines].join('\n'));
    }
    if (c.code === 'API_KEY_NOT_AUTHORIZED') return res.status(401).type('text').send('API key not authorized');
    if (c.code === 'USER_BANNED' || c.code === 'TICKET_REJECTED') return res.status(403).type('text').send('Ticket denied');
    res.status(c.status).type('text').send(c.message);
  };
}
