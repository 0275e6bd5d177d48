/** Admin: departments, SLA plans, schedules, help topics, priorities and teams (one config each for the shared CRUD pattern). */
import { Router } from 'express';
import { listAdminChoices } from '../../domain/admin/admin-choices.ts';
import * as departments from '../../domain/departments/department-service.ts';
import * as plans from '../../domain/sla/sla-plan-service.ts';
import * as schedules from '../../domain/sla/schedule-service.ts';
import * as topics from '../../domain/topics/topic-service.ts';
import * as priorities from '../../domain/priorities/priority-service.ts';
import * as teams from '../../domain/teams/team-service.ts';
import * as canned from '../../domain/canned/canned-response-service.ts';
import * as filters from '../../domain/filters/ticket-filter-service.ts';
import * as fields from '../../domain/fields/ticket-field-service.ts';
import * as roles from '../../domain/roles/role-service.ts';
import { PERMISSIONS } from '../../domain/roles/role-permissions.ts';
import { SIGNATURE_MAX } from '../../domain/validation.ts';
import { choiceOptions, crudRoutes, type CrudConfig, type FieldSpec } from './admin-crud.ts';

const yesNo = (b: boolean) => (b ? 'Yes' : 'No');
const hoursOrDash = (minutes: number | null) => (minutes === null ? '—' : `${plans.formatGrace(minutes)} h`);

const departmentConfig: CrudConfig = {
  path: 'departments', title: 'Departments', singular: 'department', columns: ['Name', 'SLA plan', 'Manager', 'Public', 'Members'],
  defaults: { isPublic: true },
  list: async (ctx) => ({
    rows: (await departments.listDepartments(ctx)).map((d) => ({
      id: d.id, isActive: d.isActive, cells: [d.name, d.slaPlanName ?? 'Help desk default', d.managerName ?? '—', yesNo(d.isPublic), String(d.memberCount)],
    })),
  }),
  fields: async (ctx, _mode, item) => {
    const c = await listAdminChoices(ctx);
    // An agent whose primary department this is works in it anyway: shown included, not offered.
    const deptId = item ? Number((item.values as { id?: number }).id) : null;
    const members = choiceOptions(c.agents)!.map((o) => (c.agents.find((a) => a.id === o.value)?.departmentId === deptId ? { ...o, implied: 'primary department' } : o));
    return [
      { name: 'name', label: 'Name', required: true, maxlength: 120 },
      { name: 'slaPlanId', label: 'Default SLA plan', type: 'select', options: choiceOptions(c.slaPlans, 'Help desk default') },
      { name: 'scheduleId', label: 'Schedule', type: 'select', options: choiceOptions(c.schedules, "The SLA plan's schedule"), hint: "Wins over the SLA plan's schedule for this department's tickets." },
      { name: 'managerId', label: 'Manager', type: 'select', options: choiceOptions(c.agents, 'No manager') },
      { name: 'isPublic', label: 'Public: users see it in the portal', type: 'checkbox' },
      { name: 'email', label: 'Outgoing email', type: 'heading' },
      { name: 'emailAddress', label: 'From address', type: 'email', hint: 'Replies from this department come from this address; mail to it opens tickets here.' },
      { name: 'emailName', label: 'From name', maxlength: 120 },
      { name: 'signature', label: 'Signature', type: 'textarea', maxlength: SIGNATURE_MAX, hint: 'Agents may add it below their replies on this department’s tickets (“Department signature”).' },
      { name: 'members', label: 'Members', type: 'heading' },
      { name: 'memberIds', label: 'Agents with extra access to this department', type: 'checkboxes', options: members, hint: 'Agents whose primary department this is are always included.' },
    ];
  },
  load: async (ctx, id) => {
    const d = await departments.getDepartment(ctx, id);
    return { values: { ...d }, name: d.name, isActive: d.isActive };
  },
  create: departments.createDepartment,
  update: departments.updateDepartment,
  setActive: departments.setDepartmentActive,
  remove: departments.deleteDepartment,
};

const slaPlanConfig: CrudConfig = {
  path: 'sla-plans', title: 'SLA plans', singular: 'SLA plan', columns: ['Name', 'Grace period', 'First response', 'Next response', 'Schedule', 'Overdue alerts'],
  defaults: { alertsEnabled: true, grace: '18' },
  list: async (ctx) => ({
    rows: (await plans.listSlaPlans(ctx)).map((p) => ({
      id: p.id, isActive: p.isActive, cells: [p.name, `${plans.formatGrace(p.graceMinutes)} h`, hoursOrDash(p.firstResponseMinutes), hoursOrDash(p.nextResponseMinutes), p.scheduleName ?? 'Help desk default', yesNo(p.alertsEnabled)],
    })),
  }),
  fields: async (ctx) => {
    const c = await listAdminChoices(ctx);
    return [
      { name: 'name', label: 'Name', required: true, maxlength: 120 },
      { name: 'grace', label: 'Grace period (hours)', required: true, hint: 'Working hours until a ticket is due: 4, 1.5 or 1:30 (hours:minutes).' },
      { name: 'firstResponse', label: 'First response within (hours)', hint: 'Optional. Working hours from opening until an agent’s first reply is due: 1, 0.5 or 0:30. Until the first reply the ticket is due at the earlier of the two.' },
      { name: 'nextResponse', label: 'Next response within (hours)', hint: 'Optional. After the first reply, working hours from a requester’s message until an agent’s reply is due: 4, 1.5 or 1:30. The oldest unanswered message counts; waiting on the requester owes no reply.' },
      { name: 'scheduleId', label: 'Schedule', type: 'select', options: choiceOptions(c.schedules, 'Help desk default') },
      { name: 'alertsEnabled', label: 'Send overdue alerts for tickets on this plan', type: 'checkbox' },
      { name: 'notes', label: 'Notes', type: 'textarea', maxlength: 2000 },
    ];
  },
  load: async (ctx, id) => {
    const p = await plans.getSlaPlan(ctx, id);
    return { values: { ...p, grace: plans.formatGrace(p.graceMinutes), firstResponse: p.firstResponseMinutes === null ? '' : plans.formatGrace(p.firstResponseMinutes), nextResponse: p.nextResponseMinutes === null ? '' : plans.formatGrace(p.nextResponseMinutes), notes: p.notes ?? '' }, name: p.name, isActive: p.isActive };
  },
  create: plans.createSlaPlan,
  update: plans.updateSlaPlan,
  setActive: plans.setSlaPlanActive,
  remove: plans.deleteSlaPlan,
};

const scheduleConfig: CrudConfig = {
  path: 'schedules', title: 'Schedules', singular: 'schedule', columns: ['Name', 'Kind', 'Time zone'],
  defaults: { kind: 'business', timezone: 'UTC', span_1: '09:00-17:00', span_2: '09:00-17:00', span_3: '09:00-17:00', span_4: '09:00-17:00', span_5: '09:00-17:00' },
  list: async (ctx) => ({
    rows: (await schedules.listSchedules(ctx)).map((s) => ({ id: s.id, isActive: s.isActive, cells: [s.name, s.kind === '24x7' ? '24/7' : 'Business hours', s.kind === '24x7' ? '—' : s.timezone] })),
  }),
  fields: async () => [
    { name: 'name', label: 'Name', required: true, maxlength: 120 },
    { name: 'kind', label: 'Kind', type: 'select', options: [{ value: '24x7', label: '24/7 (always working time)' }, { value: 'business', label: 'Business hours' }] },
    { name: 'timezone', label: 'Time zone', type: 'select', options: schedules.timeZoneNames().map((z) => ({ value: z, label: z })), hint: 'The hours below are read in this zone.' },
    { name: 'hours', label: 'Working hours (business hours only)', type: 'heading' },
    ...schedules.WEEKDAY_NAMES.map((day, i) => ({ name: `span_${i + 1}`, label: day, maxlength: 500, hint: i === 0 ? 'Spans like 09:00-17:00; several separated by commas; 22:00-06:00 runs overnight; empty = day off.' : undefined })),
    { name: 'holidays', label: 'Holidays', type: 'textarea', hint: 'One per line: 2026-12-25 Christmas (whole day) or 2026-12-24 12:00-24:00 Christmas Eve.' },
    { name: 'notes', label: 'Notes', type: 'textarea', maxlength: 2000 },
  ],
  load: async (ctx, id) => {
    const s = await schedules.getSchedule(ctx, id);
    return { values: schedules.scheduleFormValues(s), name: s.name, isActive: s.isActive };
  },
  create: schedules.createSchedule,
  update: schedules.updateSchedule,
  setActive: schedules.setScheduleActive,
  remove: schedules.deleteSchedule,
};

const topicConfig: CrudConfig = {
  path: 'help-topics', title: 'Help topics', singular: 'help topic', columns: ['Name', 'Visibility', 'Department', 'Priority', 'SLA plan'],
  defaults: { isPublic: true },
  list: async (ctx) => ({
    rows: (await topics.listTopics(ctx)).map((t) => ({
      id: t.id, isActive: t.isActive, cells: [t.name, t.isPublic ? 'Public' : 'Internal', t.departmentName ?? 'Help desk default', t.priorityName ?? 'Help desk default', t.slaPlanName ?? "Department's plan"],
    })),
  }),
  fields: async (ctx) => {
    const c = await listAdminChoices(ctx);
    return [
      { name: 'name', label: 'Name', required: true, maxlength: 120 },
      { name: 'isPublic', label: 'Public: users can choose it in the portal (otherwise agents only)', type: 'checkbox' },
      { name: 'departmentId', label: 'Department', type: 'select', options: choiceOptions(c.departments, 'Help desk default') },
      { name: 'priorityId', label: 'Priority', type: 'select', options: choiceOptions(c.priorities, 'Help desk default') },
      { name: 'slaPlanId', label: 'SLA plan', type: 'select', options: choiceOptions(c.slaPlans, "The department's plan") },
    ];
  },
  load: async (ctx, id) => {
    const t = await topics.getTopic(ctx, id);
    return { values: { ...t }, name: t.name, isActive: t.isActive };
  },
  create: topics.createTopic,
  update: topics.updateTopic,
  setActive: topics.setTopicActive,
  remove: topics.deleteTopic,
};

const priorityConfig: CrudConfig = {
  path: 'priorities', title: 'Priorities', singular: 'priority', columns: ['Name', 'Urgency', 'Colour'],
  defaults: { urgency: '3', color: '#DDDDDD' },
  list: async (ctx) => ({
    rows: (await priorities.listPriorities(ctx)).map((p) => ({ id: p.id, isActive: p.isActive, cells: [p.name, String(p.urgency), p.color] })),
  }),
  fields: async () => [
    { name: 'name', label: 'Name', required: true, maxlength: 60 },
    { name: 'urgency', label: 'Urgency', type: 'number', required: true, hint: '1 is the most urgent; queues sort by it.' },
    { name: 'color', label: 'Colour', type: 'color', required: true },
  ],
  load: async (ctx, id) => {
    const p = await priorities.getPriority(ctx, id);
    return { values: { ...p, urgency: String(p.urgency) }, name: p.name, isActive: p.isActive };
  },
  create: priorities.createPriority,
  update: priorities.updatePriority,
  setActive: priorities.setPriorityActive,
  remove: priorities.deletePriority,
};

const teamConfig: CrudConfig = {
  path: 'teams', title: 'Teams', singular: 'team', columns: ['Name', 'Lead', 'Members'],
  list: async (ctx) => ({
    rows: (await teams.listTeams(ctx)).map((t) => ({ id: t.id, isActive: t.isActive, cells: [t.name, t.leadName ?? '—', String(t.memberCount)] })),
  }),
  fields: async (ctx) => {
    const c = await listAdminChoices(ctx);
    return [
      { name: 'name', label: 'Name', required: true, maxlength: 120 },
      { name: 'leadId', label: 'Lead', type: 'select', options: choiceOptions(c.agents, 'No lead'), hint: 'The lead is always a member.' },
      { name: 'memberIds', label: 'Members', type: 'checkboxes', options: choiceOptions(c.agents) },
    ];
  },
  load: async (ctx, id) => {
    const t = await teams.getTeam(ctx, id);
    return { values: { ...t }, name: t.name, isActive: t.isActive };
  },
  create: teams.createTeam,
  update: teams.updateTeam,
  setActive: teams.setTeamActive,
  remove: teams.deleteTeam,
};

const cannedConfig: CrudConfig = {
  path: 'canned-responses', title: 'Canned responses', singular: 'canned response', columns: ['Title', 'Department', 'Text'],
  list: async (ctx) => ({
    rows: (await canned.listCannedResponses(ctx)).map((c) => ({
      id: c.id, isActive: c.isActive, cells: [c.title, c.departmentName ?? 'Every department', c.body.length > 80 ? `${c.body.slice(0, 80)}…` : c.body],
    })),
  }),
  fields: async (ctx) => {
    const c = await listAdminChoices(ctx);
    return [
      { name: 'title', label: 'Title', required: true, maxlength: 120, hint: 'What agents pick from the list on the ticket page.' },
      { name: 'departmentId', label: 'Department', type: 'select', options: choiceOptions(c.departments, 'Every department'), hint: 'Offered on this department’s tickets only, or on every ticket.' },
      { name: 'body', label: 'Text', type: 'textarea', required: true, rows: 8, hint: `Filled in for the ticket: ${canned.CANNED_VARIABLES.map((v) => `%{${v}}`).join(', ')}.` },
    ];
  },
  load: async (ctx, id) => {
    const c = await canned.getCannedResponse(ctx, id);
    return { values: { ...c }, name: c.title, isActive: c.isActive };
  },
  create: canned.createCannedResponse,
  update: canned.updateCannedResponse,
  setActive: canned.setCannedResponseActive,
  remove: canned.deleteCannedResponse,
};

/** A filter rule's field as the list shows it (a custom field by its label, or its key once deleted). */
function ruleFieldLabel(field: string, custom: { name: string; label: string }[]): string {
  if (!field.startsWith('cf:')) return filters.FIELD_LABELS[field as (typeof filters.RULE_FIELDS)[number]];
  return `Custom field ${custom.find((c) => c.name === field.slice(3))?.label ?? field.slice(3)}`;
}

const filterConfig: CrudConfig = {
  path: 'filters', title: 'Ticket filters', singular: 'ticket filter', columns: ['Name', 'Order', 'Applies to', 'Rules', 'Actions'],
  defaults: { execOrder: '99', target: 'any', matchAll: 'all' },
  list: async (ctx) => {
    const c = await listAdminChoices(ctx);
    const nameOf = (list: { id: number; name: string }[], id: number | null) => list.find((x) => x.id === id)?.name ?? `#${id}`;
    const custom = await fields.listTicketFields(ctx);
    return {
      rows: (await filters.listFilters(ctx)).map((f) => ({
        id: f.id, isActive: f.isActive,
        cells: [
          f.name, String(f.execOrder), filters.TARGET_LABELS[f.target],
          f.rules.map((r) => `${ruleFieldLabel(r.field, custom)} ${filters.OP_LABELS[r.op]} “${r.value}”`).join(f.matchAll ? ' and ' : ' or '),
          [f.reject ? 'Refuse the ticket' : '', f.departmentId ? `Department: ${nameOf(c.departments, f.departmentId)}` : '', f.topicId ? `Topic: ${nameOf(c.topics, f.topicId)}` : '',
            f.priorityId ? `Priority: ${nameOf(c.priorities, f.priorityId)}` : '', f.slaPlanId ? `SLA: ${nameOf(c.slaPlans, f.slaPlanId)}` : '', f.assigneeId ? `Agent: ${nameOf(c.agents, f.assigneeId)}` : '',
            f.teamId ? `Team: ${nameOf(c.teams, f.teamId)}` : '', f.noAutoresponse ? 'No auto-response' : '', f.stopOnMatch ? 'then stop' : ''].filter(Boolean).join('; '),
        ],
      })),
    };
  },
  fields: async (ctx) => {
    const c = await listAdminChoices(ctx);
    // The custom fields' answers too (cf:<key>), every field: a disabled one's rule simply never matches.
    const fieldOpts = [{ value: '', label: '—' }, ...filters.RULE_FIELDS.map((f) => ({ value: f, label: filters.FIELD_LABELS[f] })),
      ...(await fields.listTicketFields(ctx)).map((f) => ({ value: `cf:${f.name}`, label: `Custom field: ${f.label}` }))];
    const opOpts = [{ value: '', label: '—' }, ...filters.RULE_OPS.map((o) => ({ value: o, label: filters.OP_LABELS[o] }))];
    const rules = Array.from({ length: filters.RULE_ROWS }, (_, i) => i + 1).flatMap((n): FieldSpec[] => [
      { name: `rule${n}Field`, label: `Rule ${n}: field`, type: 'select', options: fieldOpts },
      { name: `rule${n}Op`, label: `Rule ${n}: comparison`, type: 'select', options: opOpts },
      { name: `rule${n}Value`, label: `Rule ${n}: text (case is ignored)`, maxlength: 500 },
    ]);
    return [
      { name: 'name', label: 'Name', required: true, maxlength: 120 },
      { name: 'execOrder', label: 'Order', type: 'number', hint: 'Filters run from the lowest order up; a later match overrides an earlier one’s routing.' },
      { name: 'target', label: 'Applies to tickets from', type: 'select', options: filters.FILTER_TARGETS.map((t) => ({ value: t, label: filters.TARGET_LABELS[t] })) },
      { name: 'rules', label: 'Rules', type: 'heading' },
      { name: 'matchAll', label: 'The filter matches when', type: 'select', options: [{ value: 'all', label: 'all of its rules match' }, { value: 'any', label: 'any of its rules matches' }] },
      ...rules,
      { name: 'actions', label: 'Actions', type: 'heading' },
      { name: 'departmentId', label: 'Department', type: 'select', options: choiceOptions(c.departments, '— keep —') },
      { name: 'topicId', label: 'Help topic', type: 'select', options: choiceOptions(c.topics, '— keep —') },
      { name: 'priorityId', label: 'Priority', type: 'select', options: choiceOptions(c.priorities, '— keep —') },
      { name: 'slaPlanId', label: 'SLA plan', type: 'select', options: choiceOptions(c.slaPlans, '— keep —') },
      { name: 'assigneeId', label: 'Assign to agent', type: 'select', options: choiceOptions(c.agents, '— nobody —'), hint: 'Only when the agent works in the ticket’s department.' },
      { name: 'teamId', label: 'Assign to team', type: 'select', options: choiceOptions(c.teams, '— no team —') },
      { name: 'noAutoresponse', label: 'Send no auto-response to the requester', type: 'checkbox' },
      { name: 'reject', label: 'Refuse the ticket (nothing is created; the sender is told it was not accepted)', type: 'checkbox' },
      { name: 'stopOnMatch', label: 'Stop: run no further filters when this one matches', type: 'checkbox' },
      { name: 'notes', label: 'Notes', type: 'textarea', maxlength: 2000 },
    ];
  },
  load: async (ctx, id) => {
    const f = await filters.getFilter(ctx, id);
    const values: Record<string, unknown> = { ...f, matchAll: f.matchAll ? 'all' : 'any' };
    f.rules.forEach((r, i) => Object.assign(values, { [`rule${i + 1}Field`]: r.field, [`rule${i + 1}Op`]: r.op, [`rule${i + 1}Value`]: r.value }));
    return { values, name: f.name, isActive: f.isActive };
  },
  create: filters.createFilter,
  update: filters.updateFilter,
  setActive: filters.setFilterActive,
  remove: filters.deleteFilter,
};

const fieldConfig: CrudConfig = {
  path: 'ticket-fields', title: 'Custom fields', singular: 'custom field', columns: ['Label', 'Key', 'Type', 'Required', 'Who sees it', 'Help topics', 'Order'],
  defaults: { type: 'text', visibility: 'public', sortOrder: '0' },
  list: async (ctx) => {
    const c = await listAdminChoices(ctx);
    const topicNames = (ids: number[]) => (ids.length ? ids.map((id) => c.topics.find((t) => t.id === id)?.name ?? `#${id}`).join(', ') : 'Every topic');
    return {
      rows: (await fields.listTicketFields(ctx)).map((f) => ({
        id: f.id, isActive: f.isActive,
        cells: [f.label, f.name, fields.TYPE_LABELS[f.type], yesNo(f.isRequired), f.visibility === 'agents' ? 'Agents only' : 'Requester and agents', topicNames(f.topicIds), String(f.sortOrder)],
      })),
    };
  },
  fields: async (ctx) => {
    const c = await listAdminChoices(ctx);
    return [
      { name: 'label', label: 'Label', required: true, maxlength: 120, hint: 'The question as the form asks it, e.g. “Asset tag”.' },
      { name: 'name', label: 'Key', required: true, maxlength: 64, hint: 'Its name in the API (fields.<key>, or a top-level key on /api/tickets.json): lower-case letters, digits and _.' },
      { name: 'type', label: 'Type', type: 'select', options: fields.FIELD_TYPES.map((t) => ({ value: t, label: fields.TYPE_LABELS[t] })) },
      { name: 'options', label: 'Options (choice list only)', type: 'textarea', hint: 'One per line.' },
      { name: 'isRequired', label: 'Required: people opening a ticket (portal, API) must answer it', type: 'checkbox', hint: 'Agents may leave it empty.' },
      { name: 'visibility', label: 'Who sees it', type: 'select', options: fields.VISIBILITIES.map((v) => ({ value: v, label: fields.VISIBILITY_LABELS[v] })) },
      { name: 'help', label: 'Help text', maxlength: 500, hint: 'Shown under the label.' },
      { name: 'sortOrder', label: 'Order', type: 'number', hint: 'Fields are asked from the lowest order up.' },
      { name: 'topicIds', label: 'Help topics', type: 'checkboxes', options: choiceOptions(c.topics), hint: 'Asked for tickets of these topics; none ticked = every topic.' },
    ];
  },
  load: async (ctx, id) => {
    const f = await fields.getTicketField(ctx, id);
    return {
      values: { ...f, options: f.options.join('\n'), sortOrder: String(f.sortOrder), help: f.help ?? '' }, name: f.label, isActive: f.isActive,
      facts: [['Answers', f.answers ? `${f.answers} ticket${f.answers === 1 ? '' : 's'} (it can be disabled, not deleted; the answers stay)` : 'None yet']],
    };
  },
  create: fields.createTicketField,
  update: fields.updateTicketField,
  setActive: fields.setTicketFieldActive,
  remove: fields.deleteTicketField,
};

const roleConfig: CrudConfig = {
  path: 'roles', title: 'Roles', singular: 'role', columns: ['Name', 'Permissions', 'Agents'],
  list: async (ctx) => ({
    rows: (await roles.listRoles(ctx)).map((r) => ({
      id: r.id, isActive: r.isActive,
      cells: [r.name, r.permissions.length ? PERMISSIONS.filter((p) => r.permissions.includes(p.key)).map((p) => p.label).join(', ') : 'None (read and add notes)', String(r.agentCount)],
    })),
  }),
  fields: async () => [
    { name: 'name', label: 'Name', required: true, maxlength: 120 },
    {
      name: 'permissions', label: 'Permissions on the tickets of a department', type: 'checkboxes', options: PERMISSIONS.map((p) => ({ value: p.key, label: `${p.label}: ${p.hint}` })),
      hint: 'Every agent who sees a ticket may read it and add internal notes. Administrators have every permission whatever their role.',
    },
    { name: 'notes', label: 'Notes', type: 'textarea', maxlength: 2000 },
  ],
  load: async (ctx, id) => {
    const { usedBy, ...r } = await roles.getRole(ctx, id);
    return { values: { ...r, notes: r.notes ?? '' }, name: r.name, isActive: r.isActive, facts: [['Used by', usedBy.length ? usedBy.join(', ') : 'Nobody (it can be deleted)']] };
  },
  create: roles.createRole,
  update: roles.updateRole,
  setActive: roles.setRoleActive,
  remove: roles.deleteRole,
};

/** The catalogue sections of the admin area. */
export function adminCatalogRoutes(): Router {
  const router = Router();
  for (const cfg of [roleConfig, departmentConfig, slaPlanConfig, scheduleConfig, topicConfig, priorityConfig, teamConfig, cannedConfig, filterConfig, fieldConfig]) router.use(crudRoutes(cfg));
  return router;
}
