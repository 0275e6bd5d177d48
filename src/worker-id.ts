/** This process's name where it claims work others could take (outbox.locked_by, webhook_deliveries.locked_by). */
import os from 'node:os';
import crypto from 'node:crypto';

export const WORKER_ID = `${os.hostname().slice(0, 40)}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
