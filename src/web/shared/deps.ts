/** The app's dependencies, reachable from a request; and the service context built from one. */
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from '../../config.ts';
import { ANONYMOUS, type Actor } from '../../domain/actor.ts';
import type { ServiceContext } from '../../domain/context.ts';

export interface AppDeps {
  config: Config;
  db: Knex;
  clock: () => Date;
  logger: Logger;
}

export function deps(req: Request): AppDeps {
  return req.app.locals.deps as AppDeps;
}

/** The acting user for this request, set by the area's load-actor middleware. */
export function actorOf(res: Response): Actor {
  return (res.locals.actor as Actor | undefined) ?? ANONYMOUS;
}

/** Builds the ServiceContext for a request. */
export function ctxFrom(req: Request, res: Response): ServiceContext {
  const d = deps(req);
  return { db: d.db, actor: actorOf(res), clock: d.clock, publicUrl: d.config.publicUrl, ip: req.ip };
}
