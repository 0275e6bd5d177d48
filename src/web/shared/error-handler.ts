/**
 * Area error handlers: known errors render the area's error page with their status; anything else is
 * logged with the request id and shown as a generic 500. Raw DB or stack text is never shown.
 */
import type { ErrorRequestHandler, Request, Response } from 'express';
import { DomainError } from '../../domain/errors.ts';
import { deps } from './deps.ts';
import { render } from './render.ts';

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Please sign in',
  403: 'Not allowed',
  404: 'Page not found',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported format',
  422: 'Please check your input',
  429: 'Too many requests',
  500: 'Something went wrong',
};

/** Maps any thrown value to { status, code, message } safe for users. */
export function classifyError(err: unknown): { status: number; code: string; message: string; internal: boolean } {
  if (err instanceof DomainError) return { status: err.status, code: err.code, message: err.message, internal: false };
  const e = err as { status?: number; statusCode?: number; code?: string; type?: string; expose?: boolean; message?: string };
  if (e?.code === 'EBADCSRFTOKEN' || e?.message === 'invalid csrf token')
    return { status: 403, code: 'CSRF_INVALID', message: 'This form has expired or was not sent by this site. Go back, reload the page and try again.', internal: false };
  if (e?.code === 'LIMIT_FILE_SIZE') return { status: 413, code: 'FILE_TOO_LARGE', message: 'A file is larger than the allowed size.', internal: false };
  if (typeof e?.code === 'string' && e.code.startsWith('LIMIT_')) return { status: 422, code: 'UPLOAD_REFUSED', message: 'Too many files, or a file field that was not expected.', internal: false };
  const status = e?.status ?? e?.statusCode;
  if (status && status >= 400 && status < 500) {
    const message = status === 413 ? 'The request is too large.' : status === 415 ? 'Unsupported content type.' : 'The request could not be understood.';
    return { status, code: e.type ? String(e.type).toUpperCase().replace(/\W+/g, '_') : 'BAD_REQUEST', message, internal: false };
  }
  return { status: 500, code: 'INTERNAL', message: 'Something went wrong on our side. It has been logged; please try again.', internal: true };
}

function logIfInternal(req: Request, err: unknown, internal: boolean): void {
  if (!internal) return;
  const log = (req as any).log ?? deps(req).logger;
  log.error({ err, reqId: (req as any).id }, 'unhandled error');
}

/** HTML error pages rendered inside the area's layout. */
export function htmlErrorHandler(): ErrorRequestHandler {
  return async (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const c = classifyError(err);
    logIfInternal(req, err, c.internal);
    const view = [400, 403, 404, 409, 422, 500].includes(c.status) ? `errors/${c.status}` : 'errors/generic';
    try {
      await render(req, res, view, { code: c.code, message: c.message, status: c.status, requestId: (req as any).id }, { status: c.status, title: TITLES[c.status] ?? 'Error' });
    } catch (renderErr) {
      deps(req).logger.error({ err: renderErr }, 'error page failed to render');
      res.status(c.status).type('text').send(c.message);
    }
  };
}

/** 404 for anything no route answered, rendered in the area's layout. */
export function notFoundHandler() {
  return async (req: Request, res: Response) => {
    await render(req, res, 'errors/404', { code: 'NOT_FOUND', message: 'We could not find that page.', status: 404 }, { status: 404, title: TITLES[404] });
  };
}
