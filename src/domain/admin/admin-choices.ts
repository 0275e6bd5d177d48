/** The choices admin forms offer (departments, plans, schedules, priorities, topics, agents, teams). */
import { dbBool } from '../../db/dialect.ts';
import type { ServiceContext } from '../context.ts';
import { assertAdmin, type Choice } from './admin-support.ts';

export interface AdminChoices {
  departments: Choice[];
  slaPlans: Choice[];
  schedules: Choice[];
  priorities: Choice[];
  topics: Choice[];
  agents: Choice[];
  teams: Choice[];
}

/** Every choice list, sorted by name (priorities by urgency). @throws Forbidden */
export async function listAdminChoices(ctx: ServiceContext): Promise<AdminChoices> {
  assertAdmin(ctx);
  const pick = async (table: string, order: string[] = ['name'], extra: string[] = []) => {
    const rows = await ctx.db(table).select('id', 'name', 'is_active', ...extra).orderBy([...order, 'id']);
    return rows.map((r: any): Choice => ({ id: r.id, name: r.name, isActive: dbBool(r.is_active), ...(r.department_id !== undefined ? { departmentId: Number(r.department_id) } : {}) }));
  };
  const [departments, slaPlans, schedules, priorities, topics, agents, teams] = await Promise.all([
    pick('departments'), pick('sla_plans'), pick('schedules'), pick('priorities', ['urgency', 'name']),
    pick('help_topics'), pick('agents', ['name'], ['department_id']), pick('teams'),
  ]);
  return { departments, slaPlans, schedules, priorities, topics, agents, teams };
}
