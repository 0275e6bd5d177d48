/**
 * Security lint (run in CI: `npm run lint:security`). Fails on:
 * 1. Unescaped EJS output `<%-` in views/**\/*.ejs, except `<%- include(…` and `<%- body %>`, or a line
 *    with (or right after a line with) a comment `<%# sanitised: <which function> %>`.
 * 2. Knex raw SQL built from a template literal with `${…}` in src/: the first argument of `.raw(`,
 *    `.whereRaw(` and the other `*Raw(` builders must be a constant with `?` bindings. A fragment made
 *    only of the code's own constants may be allowed by a comment `// sql-safe: <why>` on the same
 *    line or the line before (a reviewer reads each one).
 * Prints one `file:line: message` per finding and exits 1 when there is any.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export interface Finding {
  file: string;
  line: number;
  message: string;
}

const ALLOWED_UNESCAPED = /^<%-\s*(include\s*\(|body\s*%>)/;
const SANITISED_NOTE = /<%#\s*sanitised:\s*\S[^%]*%>/;

/** `<%-` outputs in one EJS template that are neither includes, the layout body, nor marked sanitised. */
export function findUnsafeEjs(file: string, text: string): Finding[] {
  const lines = text.split(/\r?\n/);
  const out: Finding[] = [];
  lines.forEach((line, i) => {
    for (const m of line.matchAll(/<%-/g)) {
      const rest = line.slice(m.index);
      if (ALLOWED_UNESCAPED.test(rest)) continue;
      if (SANITISED_NOTE.test(line) || (i > 0 && SANITISED_NOTE.test(lines[i - 1]))) continue;
      out.push({ file, line: i + 1, message: 'unescaped EJS output `<%-`: use `<%=`, or mark HTML sanitised by a named function with `<%# sanitised: fn %>`' });
    }
  });
  return out;
}

const SQL_SAFE_NOTE = /\/\/\s*sql-safe:\s*\S/;

/** Knex raw builders whose first argument is SQL text. */
const RAW_METHODS = new Set(['raw', 'whereRaw', 'orWhereRaw', 'andWhereRaw', 'havingRaw', 'orHavingRaw', 'orderByRaw', 'groupByRaw', 'joinRaw', 'onRaw', 'orOnRaw', 'andOnRaw', 'fromRaw', 'selectRaw']);

/** Raw-SQL calls in one TypeScript source whose first argument is a template literal with `${…}`. */
export function findInterpolatedRawSql(file: string, text: string): Finding[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const lines = text.split(/\r?\n/);
  const out: Finding[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : '';
      const first = node.arguments[0];
      if (RAW_METHODS.has(name) && first && ts.isTemplateExpression(first)) {
        const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
        if (SQL_SAFE_NOTE.test(lines[line - 1] ?? '') || SQL_SAFE_NOTE.test(lines[line - 2] ?? '')) return ts.forEachChild(node, visit);
        out.push({ file, line, message: `${name}() with an interpolated template literal: pass values as ? bindings (identifiers as ??)` });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function walk(dir: string, ext: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : walk(p, ext);
    return e.name.endsWith(ext) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Lints the project at `root`; returns every finding (paths relative to root). */
export function lintProject(root: string): Finding[] {
  const rel = (p: string) => path.relative(root, p);
  return [
    ...walk(path.join(root, 'views'), '.ejs').flatMap((f) => findUnsafeEjs(rel(f), fs.readFileSync(f, 'utf8'))),
    ...walk(path.join(root, 'src'), '.ts').flatMap((f) => findInterpolatedRawSql(rel(f), fs.readFileSync(f, 'utf8'))),
  ];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const findings = lintProject(root);
  for (const f of findings) console.error(`${f.file}:${f.line}: ${f.message}`);
  console.log(findings.length ? `lint:security: ${findings.length} problem(s)` : 'lint:security: no problems');
  process.exit(findings.length ? 1 : 0);
}
