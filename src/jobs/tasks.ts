/** The background tasks this process runs (each claims its work atomically in the database). */
import type { BackgroundTask } from './background.ts';
import { outboxTask } from '../mail/outbox-worker.ts';
import { imapTask } from '../mail/imap-poller.ts';
import { overdueTask } from './overdue-task.ts';
import { housekeepingTask } from './housekeeping-task.ts';
import { searchIndexTask } from './search-index-task.ts';
import { webhookTask } from './webhook-task.ts';

export const backgroundTasks: BackgroundTask[] = [outboxTask, imapTask, overdueTask, housekeepingTask, searchIndexTask, webhookTask];
