/** HTTP helpers: a cookie-keeping client, CSRF tokens from forms, and sign-in per area. */
import request from 'supertest';
import * as cheerio from 'cheerio';
import type express from 'express';

export type Client = ReturnType<typeof request.agent>;

export function client(app: express.Application): Client {
  return request.agent(app);
}

/** Loads `path` and returns the CSRF token of its first form (and the parsed page). */
export async function csrfFrom(c: Client, path: string): Promise<string> {
  const res = await c.get(path);
  const $ = cheerio.load(res.text);
  const token = $('input[name=_csrf]').first().val();
  if (typeof token !== 'string' || !token) throw new Error(`no CSRF token on ${path} (status ${res.status})`);
  return token;
}

/** GETs `formPath` for a token, then POSTs `data` (urlencoded) to `action`. */
export async function submit(c: Client, formPath: string, action: string, data: Record<string, string | string[]>) {
  const _csrf = await csrfFrom(c, formPath);
  return c.post(action).type('form').send({ _csrf, ...data });
}

export function $(html: string) {
  return cheerio.load(html);
}

/** Signs an agent in; returns the client with its session cookie. */
export async function loginAsAgent(app: express.Application, login: string, password: string): Promise<Client> {
  const c = client(app);
  const res = await submit(c, '/scp/login', '/scp/login', { login, password });
  if (res.status !== 303 || res.headers.location !== '/scp') throw new Error(`agent login failed for ${login}: ${res.status} ${res.headers.location ?? ''}`);
  return c;
}

/** Loads an agent ticket page and posts `data` to one of its actions with the page's CSRF token, version and last event seen. */
export async function ticketAction(c: Client, id: number, action: string, data: Record<string, string> = {}) {
  const page = $((await c.get(`/scp/tickets/${id}`)).text);
  const form = page(`form[action^="/scp/tickets/${id}/${action}"]`).first();
  const hidden = { _csrf: String(page('input[name=_csrf]').first().val()), version: String(form.find('input[name=version]').val() ?? page('input[name=version]').first().val()), seen: String(page('input[name=seen]').first().val()) };
  return c.post(`/scp/tickets/${id}/${action}`).type('form').send({ ...hidden, ...data });
}
