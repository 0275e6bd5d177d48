/** CSV export of one report table: the same cells as the table on the reports page. */
import { z } from 'zod';
import type { ServiceContext } from '../context.ts';
import { parseInput } from '../validation.ts';
import { buildReport } from './report-service.ts';
import { reportTables, tableForCsv, TABLES, type Cell } from './report-presenters.ts';

const ExportInput = z.object({ table: z.enum(TABLES, { error: 'Choose a report table' }) });

/**
 * The rows (header, rows, total) and file name for GET /scp/reports.csv; the route serialises them
 * with src/web/shared/csv.ts (formula-neutralised). @throws ValidationFailed, Forbidden
 */
export async function exportReportTable(ctx: ServiceContext, raw: Record<string, unknown>): Promise<{ filename: string; rows: Cell[][] }> {
  const { table } = parseInput(ExportInput, { table: raw.table });
  const report = await buildReport(ctx, raw);
  const t = reportTables(report).find((x) => x.id === table)!;
  return { filename: `tessera-${table}-${report.period.from}-to-${report.period.to}.csv`, rows: tableForCsv(t) };
}
