/**
 * Starts the in-process background work: each task runs on its own interval and claims its rows
 * atomically in the database, so any number of processes can run it side by side.
 */
import type { AppDeps } from '../web/shared/deps.ts';
import { backgroundTasks } from './tasks.ts';

export interface BackgroundTask {
  name: string;
  /** Milliseconds between runs (read on each run, so settings changes apply). */
  intervalMs: (deps: AppDeps) => Promise<number> | number;
  run: (deps: AppDeps) => Promise<void>;
}


export async function startBackground(d: AppDeps): Promise<{ stop: () => Promise<void> }> {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  for (const task of backgroundTasks) {
    const loop = async () => {
      if (stopped) return;
      const p = task.run(d).catch((err) => d.logger.error({ err, task: task.name }, 'background task failed'));
      running.add(p);
      await p;
      running.delete(p);
      if (stopped) return;
      const t = setTimeout(loop, await task.intervalMs(d));
      timers.add(t);
    };
    const t = setTimeout(loop, 1000);
    timers.add(t);
  }
  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all(running);
    },
  };
}
