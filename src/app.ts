/** Builds the Express application from its dependencies. Never listens (tests use it through supertest). */
import path from 'node:path';
import { projectRoot } from './paths.ts';
import express from 'express';
import helmet from 'helmet';
import ejs from 'ejs';
import { pinoHttp } from 'pino-http';
import crypto from 'node:crypto';
import type { AppDeps } from './web/shared/deps.ts';
import { KnexSessionStore } from './web/shared/session-store.ts';
import { portalRouter } from './web/portal/portal-routes.ts';
import { scpRouter } from './web/scp/scp-routes.ts';
import { apiRouter } from './web/api/api-routes.ts';
import { healthRouter } from './web/shared/health-routes.ts';
import { withRequestMemo } from './domain/request-memo.ts';

/** Replaces the values of token-like query parameters in a logged URL. */
export function redactTokens(url: string | undefined): string | undefined {
  return url?.replace(/([?&](?:token|_csrf|key)=)[^&#]*/gi, '$1[redacted]');
}

const root = projectRoot;

export function createApp(d: AppDeps): express.Application {
  const app = express();
  app.locals.deps = d;
  const views = path.join(root, 'views');
  app.set('views', views);
  app.set('view engine', 'ejs');
  // Includes are written from the views folder ('/partials/field'): EJS then resolves them without
  // the fs.existsSync per include per render that a relative include costs (2.7 % of a page's CPU).
  // The options go to EJS directly: 'view options' would be read from the locals' `settings`, which
  // here are the help desk's settings, not Express's. Express decides `cache` ('view cache').
  app.engine('ejs', (file: string, data: object, cb: (e: Error | null, html?: string) => void) =>
    ejs.renderFile(file, data, { root: views, cache: (data as { cache?: boolean }).cache === true }, cb));
  app.set('trust proxy', d.config.trustProxy ?? false);
  app.disable('x-powered-by');
  if (d.config.env === 'production') app.set('view cache', true);
  // Settings (and the signed-in agent) are read once per request, not once per use (request-memo.ts).
  app.use((_req, _res, next) => withRequestMemo(next));

  app.use(
    pinoHttp({
      logger: d.logger,
      genReqId: (req, res) => {
        const id = crypto.randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Never log credentials: API keys, cookies, CSRF tokens.
      redact: ['req.headers.cookie', 'req.headers["x-api-key"]', 'req.headers.authorization', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]'],
      // Access-link, reset and CSRF tokens travel in query strings: never write them to the logs.
      serializers: {
        req: (req: { url?: string; query?: Record<string, unknown> } & Record<string, unknown>) => ({
          ...req,
          url: redactTokens(req.url),
          query: undefined,
        }),
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || (req.url ?? '').startsWith('/assets/') },
    }),
  );
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'self'"],
          objectSrc: ["'none'"],
          reportUri: ['/csp-report'],
        },
      },
      referrerPolicy: { policy: 'same-origin' },
      strictTransportSecurity: d.config.publicUrl.startsWith('https://'),
    }),
  );
  app.use('/assets', express.static(path.join(root, 'public'), { maxAge: d.config.env === 'production' ? '1d' : 0, index: false }));
  app.use(healthRouter(d));

  // One store object per area: express-session keeps an area's cookie options (path, name) on the
  // store it is given (store.generate), so a shared object would give /scp sessions the portal's Path=/.
  app.use('/api', apiRouter(d));
  app.use('/scp', scpRouter(d, new KnexSessionStore(d.db, d.clock)));
  app.use('/', portalRouter(d, new KnexSessionStore(d.db, d.clock)));
  return app;
}
