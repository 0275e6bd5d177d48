/**
 * Templates include each other by a path from the views folder ('/partials/field'): EJS resolves
 * such an include without touching the disk (the app passes `root`), where a relative one costs an
 * fs.existsSync on every render (2.7 % of the portal home page's CPU, docs/benchmarks.md). A
 * missing partial would be a 500 on whatever page includes it, so every target must exist too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.ts';

const views = path.join(projectRoot, 'views');
const templates = (fs.readdirSync(views, { recursive: true }) as string[]).filter((f) => f.endsWith('.ejs'));

describe('view includes', () => {
  const includes = templates.flatMap((f) =>
    [...fs.readFileSync(path.join(views, f), 'utf8').matchAll(/include\(\s*(['"`]?)([^'"`,)]*)\1/g)].map((m) => ({ from: f, quote: m[1], target: m[2] })),
  );

  it('finds the includes (the pattern still matches how templates are written)', () => {
    expect(templates.length).toBeGreaterThan(50);
    expect(includes.length).toBeGreaterThan(100);
  });

  it('writes every include as a literal path from the views folder', () => {
    const relative = includes.filter((i) => !/^['"]$/.test(i.quote) || !i.target.startsWith('/')).map((i) => `${i.from}: include(${i.quote}${i.target}${i.quote})`);
    expect(relative).toEqual([]);
  });

  it('includes only templates that exist', () => {
    const missing = includes
      .filter((i) => !fs.existsSync(path.join(views, path.extname(i.target) ? i.target : `${i.target}.ejs`)))
      .map((i) => `${i.from}: ${i.target}`);
    expect(missing).toEqual([]);
  });
});
