/** Sends a stored attachment as a download: never rendered by the browser, never cached by others. */
import type { Response } from 'express';

export function sendAttachment(res: Response, file: { filename: string; contentType: string; data: Buffer }): void {
  // res.attachment writes an RFC 6266 Content-Disposition (ASCII fallback + UTF-8 filename*).
  res.attachment(file.filename);
  res.set({
    'Content-Type': file.contentType,
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'Cache-Control': 'private, no-store',
  });
  res.send(file.data);
}
