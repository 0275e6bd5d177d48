/** Real SMTP servers for mail tests: a sink that records what nodemailer delivered, on 127.0.0.1. */
import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';

export interface ReceivedMail {
  raw: Buffer;
  parsed: ParsedMail;
  envelopeTo: string[];
}

export interface SmtpSink {
  port: number;
  url: string;
  received: ReceivedMail[];
  /** Recipients the sink refuses with 550. */
  refuse: Set<string>;
  close: () => Promise<void>;
}

export async function startSmtpSink(port = 0): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const refuse = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (refuse.has(address.address.toLowerCase())) return cb(Object.assign(new Error('No such user'), { responseCode: 550 }));
      cb();
    },
    async onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks);
      received.push({ raw, parsed: await simpleParser(raw), envelopeTo: session.envelope.rcptTo.map((r) => r.address) });
      cb();
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const actual = ((server as any).server.address() as net.AddressInfo).port;
  return { port: actual, url: `smtp://127.0.0.1:${actual}`, received, refuse, close: () => new Promise((r) => server.close(() => r())) };
}

/** A loopback port nobody listens on (for "SMTP is down"). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Sends `raw` (or a message built by nodemailer) to an SMTP server on 127.0.0.1:port. */
export async function sendTo(port: number, mail: nodemailer.SendMailOptions) {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 5000 } as any);
  try {
    return await t.sendMail(mail);
  } finally {
    t.close();
  }
}

export function header(m: ParsedMail, name: string): string {
  const v = m.headers.get(name);
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.join(' ');
  return String((v as any).text ?? (v as any).value ?? v);
}
