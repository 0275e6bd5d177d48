/** Work that must run in exactly one process per server: background jobs and the inbound SMTP listener. */
import { startBackground } from '../jobs/background.ts';
import { startInboundSmtp } from '../mail/inbound-smtp.ts';
import type { AppDeps } from '../web/shared/deps.ts';

export async function startServices(d: AppDeps): Promise<{ stop: () => Promise<void> }> {
  const { config, db, clock, logger } = d;
  const background = config.jobsDisabled ? null : await startBackground(d);
  const inboundSmtp = config.inboundSmtp ? await startInboundSmtp({ db, clock, logger, publicUrl: config.publicUrl, ...config.inboundSmtp }) : null;
  if (inboundSmtp) logger.info(`Inbound SMTP listener on ${config.inboundSmtp!.host}:${inboundSmtp.port}`);
  return {
    async stop() {
      await inboundSmtp?.close();
      await background?.stop();
    },
  };
}
