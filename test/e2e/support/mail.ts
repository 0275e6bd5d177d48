/** Reading what the mail catcher received, and answering it as the user's mail program would. */
import nodemailer from 'nodemailer';
import type { ParsedMail } from 'mailparser';

export const recipients = (m: ParsedMail): string =>
  [m.to, m.cc].flat().filter(Boolean).map((a: any) => a.text as string).join(', ').toLowerCase();

export const isTo = (address: string) => (m: ParsedMail) => recipients(m).includes(address.toLowerCase());

export const about = (m: ParsedMail, number: string) => (m.subject ?? '').includes(`#${number}`);

export const bodyOf = (m: ParsedMail) => `${m.subject ?? ''}\n${m.text ?? ''}\n${typeof m.html === 'string' ? m.html : ''}`;

/** The link back to the ticket in a mail to the user. */
export function ticketLinkIn(m: ParsedMail, baseUrl: string): string {
  const re = new RegExp(`${baseUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/tickets/\\S+`);
  const link = re.exec(m.text ?? '')?.[0];
  if (!link) throw new Error(`no ticket link in mail "${m.subject}":\n${m.text}`);
  return link;
}

/** Sends a reply to `original` from the user's mail program to the help desk's inbound SMTP listener. */
export async function replyByMail(inboundPort: number, original: ParsedMail, from: string, text: string): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: inboundPort, secure: false, ignoreTLS: true });
  const helpdesk = (original.replyTo as any)?.value?.[0]?.address ?? (original.from as any)?.value?.[0]?.address ?? 'help@helpdesk.test';
  const refs = [original.references ?? []].flat().concat(original.messageId ? [original.messageId] : []);
  await transport.sendMail({
    from,
    to: helpdesk,
    subject: `Re: ${original.subject}`,
    text: `${text}\n\nOn an earlier day, the help desk wrote:\n> ${(original.text ?? '').split('\n').join('\n> ')}`,
    inReplyTo: original.messageId,
    references: refs,
  });
  transport.close();
}
