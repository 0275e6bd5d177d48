/** Agent panel: reports and their CSV exports (agents see their departments, admins everything). */
import { Router } from 'express';
import type { AppDeps } from '../shared/deps.ts';
import { ctxFrom } from '../shared/deps.ts';
import { render } from '../shared/render.ts';
import { single } from '../shared/area.ts';
import { ValidationFailed } from '../../domain/errors.ts';
import { buildReport } from '../../domain/reports/report-service.ts';
import { presentReport, presentReportErrors } from '../../domain/reports/report-presenters.ts';
import { exportReportTable } from '../../domain/reports/report-export.ts';
import { sendCsv, toCsv } from '../shared/csv.ts';

const REPORT_FIELDS = ['period', 'from', 'to', 'group', 'dept', 'table'] as const;

/** The report's query fields as single strings (arrays and objects are passed on for zod to refuse). */
function reportInput(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(REPORT_FIELDS.map((k) => [k, Array.isArray(query[k]) || typeof query[k] === 'object' ? query[k] : single(query[k])]));
}

export function scpReportRoutes(_d: AppDeps): Router {
  const router = Router();
  // ## Reports
  router.get('/reports', async (req, res) => {
    try {
      const report = await buildReport(ctxFrom(req, res), reportInput(req.query));
      await render(req, res, 'scp/reports/index', presentReport(report), { title: 'Reports' });
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      await render(req, res, 'scp/reports/index', presentReportErrors(err.fields, reportInput(req.query)), { title: 'Reports', status: 422 });
    }
  });
  router.get('/reports.csv', async (req, res) => {
    const csv = await exportReportTable(ctxFrom(req, res), reportInput(req.query));
    sendCsv(res, csv.filename, toCsv(csv.rows));
  });
  return router;
}
