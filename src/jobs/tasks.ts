/** The background tasks this process runs (each claims its work atomically in the database). */
import type { BackgroundTask } from './background.ts';

export const backgroundTasks: BackgroundTask[] = [];
