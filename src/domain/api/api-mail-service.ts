/**
 * POST /api/tickets.email: a raw RFC 822 message handed to the inbound mail pipeline, exactly as if it
 * had arrived by SMTP, pipe or IMAP (threading, loop protection, ban list and ticket creation live there).
 */
import type { ServiceContext } from '../context.ts';
import { BadRequest } from '../errors.ts';
import { processInboundMail, type InboundResult } from '../mail/inbound-service.ts';
import { assertApiKeyMay } from './api-ticket-service.ts';

export type { InboundResult };

/**
 * Feeds a raw message to the inbound pipeline on the channel 'api'.
 * @throws Forbidden API_KEY_NOT_AUTHORIZED, BadRequest EMPTY_BODY
 */
export async function receiveApiEmail(ctx: ServiceContext, raw: Buffer): Promise<InboundResult> {
  assertApiKeyMay(ctx.actor, 'create');
  // Blank lines before the headers (osTicket's own documented example starts with one) are dropped:
  // read as they are, they would end the header block before it began.
  let start = 0;
  while (start < raw.length && (raw[start] === 0x0a || raw[start] === 0x0d)) start += 1;
  const message = raw.subarray(start);
  if (!message.length) throw new BadRequest('Empty request body', 'EMPTY_BODY');
  return processInboundMail(ctx, message, 'api');
}
