/** Webhook rows and their domain objects (the one place the two meet), and the secret's making. */
import crypto from 'node:crypto';
import { z } from 'zod';
import { dbBool, dbDate } from '../../db/dialect.ts';
import { isWebhookEvent, type WebhookEventName } from './webhook-events.ts';

export interface Webhook {
  id: number;
  name: string;
  url: string;
  events: WebhookEventName[];
  isActive: boolean;
  createdAt: Date | null;
  updatedAt: Date | null;
}

/** A webhook with its signing secret: only its own admin page and the delivery worker read it. */
export interface WebhookWithSecret extends Webhook {
  secret: string;
}

const EventList = z.array(z.string());

/** The stored events text as a list of known event names (an unknown or unreadable entry is dropped). */
export function parseEvents(text: unknown): WebhookEventName[] {
  try {
    const parsed = EventList.safeParse(JSON.parse(String(text ?? '[]')));
    return parsed.success ? parsed.data.filter(isWebhookEvent) : [];
  } catch {
    return [];
  }
}

/** A webhooks row as a Webhook (without its secret). */
export function toWebhook(r: any): Webhook {
  return {
    id: Number(r.id), name: r.name, url: r.url, events: parseEvents(r.events), isActive: dbBool(r.is_active),
    createdAt: dbDate(r.created_at), updatedAt: dbDate(r.updated_at),
  };
}

/** A webhooks row as a Webhook with its secret. */
export function toWebhookWithSecret(r: any): WebhookWithSecret {
  return { ...toWebhook(r), secret: r.secret };
}

/** A new signing secret: 32 random bytes, 'whsec_' + base64url (49 characters). */
export function newWebhookSecret(): string {
  return 'whsec_' + crypto.randomBytes(32).toString('base64url');
}
