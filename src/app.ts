/** Builds the Express application from its dependencies. Never listens (tests use it through supertest). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import crypto from 'node:crypto';
import type { AppDeps } from './web/shared/deps.ts';
import { KnexSessionStore } from './web/shared/session-store.ts';
import { portalRouter } from './web/portal/portal-routes.ts';
import { scpRouter } from './web/scp/scp-routes.ts';
import { apiRouter } from './web/api/api-routes.ts';
import { healthRouter } from './web/shared/health-routes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function createApp(d: AppDeps): express.Application {
  const app = express();
  app.locals.deps = d;
  app.set('views', path.join(root, 'views'));
  app.set('view engine', 'ejs');
  app.set('trust proxy', d.config.trustProxy ?? false);
  app.disable('x-powered-by');
  if (d.config.env === 'production') app.set('view cache', true);

  app.use(
    pinoHttp({
      logger: d.logger,
      genReqId: (req, res) => {
        const id = crypto.randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Never log credentials: API keys, cookies, CSRF tokens.
      redact: ['req.headers.cookie', 'req.headers["x-api-key"]', 'req.headers.authorization', 'res.headers["set-cookie"]'],
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

  const store = new KnexSessionStore(d.db, d.clock);
  app.use('/api', apiRouter(d));
  app.use('/scp', scpRouter(d, store));
  app.use('/', portalRouter(d, store));
  return app;
}
