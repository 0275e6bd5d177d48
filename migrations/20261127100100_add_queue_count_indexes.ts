import type { Knex } from 'knex';

// Found by the benchmark (bench/explain.ts --time, docs/benchmarks.md): the Answered and Unassigned
// counts read each ticket row to check is_answered / team_id (3–4 ms each at 100k tickets); with the
// flag in the index they are answered from the index alone, for all departments and for one
// agent's departments (the disjoint "my departments" part of an agent's counts).
const INDEXES: [string, string[]][] = [
  ['tickets_answered', ['state', 'is_answered', 'updated_at']],
  ['tickets_unassigned', ['state', 'assignee_agent_id', 'team_id', 'updated_at']],
  ['tickets_dept_answered', ['state', 'department_id', 'is_answered']],
  ['tickets_dept_unassigned', ['state', 'department_id', 'assignee_agent_id', 'team_id']],
];

export async function up(knex: Knex): Promise<void> {
  for (const [name, columns] of INDEXES) await knex.schema.alterTable('tickets', (t) => t.index(columns, name));
}

export async function down(knex: Knex): Promise<void> {
  for (const [name, columns] of [...INDEXES].reverse()) await knex.schema.alterTable('tickets', (t) => t.dropIndex(columns, name));
}
