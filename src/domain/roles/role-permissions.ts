/**
 * The ticket permissions a role grants (osTicket's per-department role permissions, grouped): the one
 * list of them, with the labels Admin → Roles shows. An agent has a role's permissions in a department
 * (the role for the ticket's department: ticket-policy.ts assertMay); administrators have them all
 * everywhere. Not a permission: seeing a ticket (department, assignment, team) and adding internal
 * notes — every agent who sees a ticket may read it and leave a note for colleagues ("View only").
 */
export const PERMISSIONS = [
  { key: 'ticket.create', label: 'Open tickets', hint: 'Open tickets for people from the agent panel (New ticket) in this department.' },
  { key: 'ticket.edit', label: 'Edit tickets', hint: 'Subject, help topic, custom fields, requester, priority, SLA plan and due date.' },
  { key: 'ticket.assign', label: 'Assign', hint: 'Assign to an agent or a team, claim, release (also when opening a ticket).' },
  { key: 'ticket.transfer', label: 'Transfer', hint: 'Move tickets out of this department.' },
  { key: 'ticket.merge', label: 'Merge', hint: 'Merge a duplicate into another ticket (needed in the departments of both).' },
  { key: 'ticket.reply', label: 'Reply', hint: 'Reply to the requester; add and remove CCs.' },
  { key: 'ticket.close', label: 'Change status', hint: 'Resolve, close, reopen, wait on the requester.' },
  { key: 'ticket.delete', label: 'Delete', hint: 'Delete tickets for good (their thread, files and history).' },
  { key: 'task.manage', label: 'Tasks', hint: 'Add, tick off and remove the tasks of tickets.' },
] as const;

export type Permission = (typeof PERMISSIONS)[number]['key'];

export const PERMISSION_KEYS: readonly Permission[] = PERMISSIONS.map((p) => p.key);

/** What an action needing `perm` is called in a refusal ("Your role … does not allow you to transfer tickets"). */
export const PERMISSION_VERBS: Record<Permission, string> = {
  'ticket.create': 'open tickets',
  'ticket.edit': 'edit tickets',
  'ticket.assign': 'assign, claim or release tickets',
  'ticket.transfer': 'transfer tickets',
  'ticket.merge': 'merge tickets',
  'ticket.reply': 'reply to tickets or change their CCs',
  'ticket.close': 'change the status of tickets',
  'ticket.delete': 'delete tickets',
  'task.manage': 'manage tasks',
};

/** Stored permissions (JSON text) as known keys; anything unreadable or unknown is dropped. */
export function parsePermissions(text: unknown): Permission[] {
  try {
    const list: unknown = JSON.parse(String(text ?? '[]'));
    return Array.isArray(list) ? PERMISSION_KEYS.filter((k) => list.includes(k)) : [];
  } catch {
    return [];
  }
}
