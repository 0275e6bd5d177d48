/**
 * The notifications admins may reword (Admin → Email templates): for each built-in mail template of
 * views/mail, when it is sent and to whom, the placeholders its text may use (each read from the
 * variables the services already pass to the EJS template), what its text must keep, a starting text
 * in placeholder syntax that says what the built-in one says, and sample variables for previews.
 * Pure data and functions: no database, no domain rules.
 */

/** The variables a service passes to a mail template (see ticket-notifications.ts and the other queueMail callers). */
export type MailVars = Record<string, any>;

export interface PlaceholderSpec {
  key: string;
  about: string;
  get: (v: MailVars) => string;
  /** A link the help desk makes: clickable in the HTML part. */
  link?: boolean;
}

export interface MailTemplateSpec {
  name: string;
  label: string;
  /** To whom and when it is sent, in plain words. */
  when: string;
  /** Who gets it, in a few words (the list's column). */
  audience: string;
  placeholders: PlaceholderSpec[];
  /** Placeholders the body must contain: what the mail exists to deliver. */
  requiredInBody: string[];
  /** The subject must carry the "[#{{ticket.number}}]" token that threads replies by email whose headers were lost. */
  subjectToken: boolean;
  /** The built-in wording in placeholder syntax (the form starts from it). */
  starter: { subject: string; body: string };
  /** Per-template sample variables over the common ones. */
  sample?: MailVars;
}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

// ## Placeholders (one meaning per key; `recipient.name` and `ticket.url` read who the mail goes to)
const helpdesk: PlaceholderSpec = { key: 'helpdesk.name', about: 'The help desk’s name (Admin → Settings).', get: (v) => str(v.helpdeskName) };
const number: PlaceholderSpec = { key: 'ticket.number', about: 'The ticket’s number, e.g. 482913.', get: (v) => str(v.ticket?.number) };
const subject: PlaceholderSpec = { key: 'ticket.subject', about: 'The ticket’s subject, as the requester wrote it.', get: (v) => str(v.ticket?.subject) };
const department: PlaceholderSpec = { key: 'ticket.department', about: 'The ticket’s department.', get: (v) => str(v.ticket?.department) };
const status: PlaceholderSpec = { key: 'ticket.status', about: '“resolved” or “closed”.', get: (v) => str(v.status ?? v.ticket?.status) };
const userUrl: PlaceholderSpec = {
  key: 'ticket.url', link: true, about: 'This person’s own link to the ticket on the portal (it opens the ticket without a password).', get: (v) => str(v.ticketUrl),
};
const agentUrl: PlaceholderSpec = { key: 'ticket.url', link: true, about: 'The ticket’s page in the agent panel.', get: (v) => str(v.agentUrl) };
const userName: PlaceholderSpec = { key: 'recipient.name', about: 'The name of the person this mail goes to.', get: (v) => str(v.userName) };
const agentName: PlaceholderSpec = { key: 'recipient.name', about: 'The name of the agent this alert goes to.', get: (v) => str(v.agentName) };
const requesterName: PlaceholderSpec = { key: 'requester.name', about: 'The name of the ticket’s requester.', get: (v) => str(v.requester?.name ?? v.requesterName) };
const requesterEmail: PlaceholderSpec = { key: 'requester.email', about: 'The requester’s email address.', get: (v) => str(v.requester?.email) };
const message = (about: string): PlaceholderSpec => ({ key: 'message', about, get: (v) => str(v.message) });
const ccReason: PlaceholderSpec = {
  key: 'recipient.reason', about: 'For a CC, the line “You are copied (CC) on this ticket; <requester> opened it.”; empty for the requester.',
  get: (v) => (v.isCc ? `You are copied (CC) on this ticket; ${str(v.requesterName)} opened it.` : ''),
};
const closedReason: PlaceholderSpec = {
  key: 'closed.reason', about: 'For a ticket closed because the requester did not answer for the set number of days, the line “We asked you a question on it and have not heard back for N days.”; empty otherwise.',
  get: (v) => (v.waitedDays ? `We asked you a question on it and have not heard back for ${str(v.waitedDays)} days.` : ''),
};
const comment: PlaceholderSpec = { key: 'comment', about: 'The comment given with it, as a line “Comment: …”; empty when there is none.', get: (v) => (v.comment ? `Comment: ${str(v.comment)}` : '') };
const validFor = (unit: 'hours' | 'minutes', from: string): PlaceholderSpec => ({ key: 'link.valid_for', about: `How long the link works, e.g. “${unit === 'hours' ? '24 hours' : '60 minutes'}”.`, get: (v) => `${str(v[from])} ${unit}` });

const alertPlaceholders = [agentName, number, subject, department, requesterName, requesterEmail, agentUrl, helpdesk];

/** Every notification an admin may reword, in the order the list shows them. */
export const MAIL_TEMPLATES: readonly MailTemplateSpec[] = [
  {
    name: 'ticket-autoresponse', label: 'New ticket auto-response', audience: 'Requester',
    when: 'Sent to the requester when their new ticket is opened (on the portal, by email or over the API) to confirm it was received, with their link to it. Settings: “Auto-response to the user: new ticket”; a ticket filter may turn it off, and mail that is itself automatic never gets one.',
    placeholders: [userName, number, subject, department, userUrl, message('The message the requester wrote.'), helpdesk],
    requiredInBody: [], subjectToken: true,
    starter: {
      subject: '[#{{ticket.number}}] {{ticket.subject}}',
      body: 'Dear {{recipient.name}},\n\nThank you for contacting us. Your request has been received and a ticket has been opened:\nticket #{{ticket.number}}, "{{ticket.subject}}".\n\nAn agent will answer you as soon as possible. You can follow the ticket, add to it or reply here:\n{{ticket.url}}\n\nYou can also simply reply to this email.\n\n{{helpdesk.name}}',
    },
  },
  {
    name: 'message-autoresponse', label: 'New message auto-response', audience: 'Requester or CC who wrote',
    when: 'Sent to the requester or CC who added a message to an existing ticket, to confirm it was added. Off by default (Settings: “Auto-response to the user: new message”).',
    placeholders: [userName, number, subject, department, userUrl, helpdesk],
    requiredInBody: [], subjectToken: true,
    starter: {
      subject: '[#{{ticket.number}}] {{ticket.subject}}',
      body: 'Dear {{recipient.name}},\n\nYour message was added to ticket #{{ticket.number}}. We will get back to you soon.\n{{ticket.url}}\n\n{{helpdesk.name}}',
    },
  },
  {
    name: 'agent-response', label: 'Agent response', audience: 'Requester and CCs',
    when: 'Sent when an agent replies on the ticket page: to the requester, and to each CC unless the agent chose the requester only; each gets their own link. It carries the reply itself, so {{message}} is required. Settings: “Notice to the user: agent response”.',
    placeholders: [userName, message('The agent’s reply (with the signature they chose).'), { key: 'agent.name', about: 'The name of the agent who replied.', get: (v) => str(v.agentName) }, requesterName, ccReason, number, subject, department, userUrl, helpdesk],
    requiredInBody: ['message'], subjectToken: true,
    starter: {
      subject: 'Re: [#{{ticket.number}}] {{ticket.subject}}',
      body: '{{message}}\n\n{{agent.name}}\n{{helpdesk.name}}\n\n-- \n{{recipient.reason}}\nReply to this email to answer, or view the ticket: {{ticket.url}}',
    },
    sample: { userName: 'Chris Copied', isCc: true },
  },
  {
    name: 'cc-message', label: 'Copy of a message to the others', audience: 'Requester and CCs',
    when: 'Sent when the requester or a CC writes on a ticket (portal or email): a copy goes to everyone else following it, except the addresses the mail already went to. It carries the message, so {{message}} is required.',
    placeholders: [userName, { key: 'poster.name', about: 'The name of the person who wrote the message.', get: (v) => str(v.posterName) }, message('The message they wrote.'), {
      key: 'recipient.reason', about: 'The line “You are receiving this because you are copied (CC) on this ticket.” (or “… because you opened this ticket.” for the requester).',
      get: (v) => `You are receiving this because you ${v.isCc ? 'are copied (CC) on' : 'opened'} this ticket.`,
    }, requesterName, number, subject, department, userUrl, helpdesk],
    requiredInBody: ['message'], subjectToken: true,
    starter: {
      subject: 'Re: [#{{ticket.number}}] {{ticket.subject}}',
      body: '{{poster.name}} wrote on ticket #{{ticket.number}}:\n\n{{message}}\n\n-- \n{{recipient.reason}}\nReply to this email to answer everyone following it, or view the ticket: {{ticket.url}}',
    },
    sample: { userName: 'Chris Copied', isCc: true, posterName: 'Kim Requester' },
  },
  {
    name: 'ticket-closed', label: 'Ticket closed notice', audience: 'Requester and CCs',
    when: 'Sent to the requester and the CCs when a ticket is resolved or closed. Settings: “Notice to the user: ticket closed”.',
    placeholders: [userName, number, subject, status, closedReason, department, userUrl, requesterName, ccReason, helpdesk],
    requiredInBody: [], subjectToken: true,
    starter: {
      subject: '[#{{ticket.number}}] {{ticket.subject}} has been {{ticket.status}}',
      body: 'Dear {{recipient.name}},\n\nTicket #{{ticket.number}}, "{{ticket.subject}}", has been {{ticket.status}}.\n{{closed.reason}}\nIf the problem is not solved, reply to this email or on the ticket page and it will be reopened:\n{{ticket.url}}\n\n{{recipient.reason}}\n\n{{helpdesk.name}}',
    },
  },
  {
    name: 'new-ticket-alert', label: 'New ticket alert', audience: 'Agents',
    when: 'Sent to the agents of the ticket’s department (active and not away) when a ticket is opened. Settings: “Alert to agents: new ticket”.',
    placeholders: [...alertPlaceholders, message('The message the requester wrote.')],
    requiredInBody: [], subjectToken: false,
    starter: {
      subject: 'New ticket [#{{ticket.number}}] {{ticket.subject}}',
      body: 'Hello {{recipient.name}},\n\nA new ticket was opened in {{ticket.department}} by {{requester.name}} <{{requester.email}}>.\n\n{{message}}\n\nOpen it: {{ticket.url}}',
    },
  },
  {
    name: 'new-message-alert', label: 'New message alert', audience: 'Agents',
    when: 'Sent to the assigned agent (or, when nobody is assigned, the department’s agents) when the requester or a CC adds a message. Settings: “Alert to agents: new message”.',
    placeholders: [...alertPlaceholders, message('The message that was added.')],
    requiredInBody: [], subjectToken: false,
    starter: {
      subject: 'New message on [#{{ticket.number}}] {{ticket.subject}}',
      body: 'Hello {{recipient.name}},\n\n{{requester.name}} <{{requester.email}}> added a message to ticket #{{ticket.number}}:\n\n{{message}}\n\nOpen it: {{ticket.url}}',
    },
  },
  {
    name: 'assigned-alert', label: 'Assignment alert', audience: 'Agent',
    when: 'Sent to the agent a ticket is assigned to (or to the members of the team), unless they assigned it themselves. Settings: “Alert to agents: ticket assigned”.',
    placeholders: [...alertPlaceholders, comment],
    requiredInBody: [], subjectToken: false,
    starter: {
      subject: 'Ticket [#{{ticket.number}}] assigned to you: {{ticket.subject}}',
      body: 'Hello {{recipient.name}},\n\nTicket #{{ticket.number}}, "{{ticket.subject}}" ({{requester.name}}), has been assigned to you.\n\n{{comment}}\n\nOpen it: {{ticket.url}}',
    },
  },
  {
    name: 'transfer-alert', label: 'Transfer alert', audience: 'Agents',
    when: 'Sent to the agents of the department a ticket is transferred to. Settings: “Alert to agents: ticket transferred”.',
    placeholders: [...alertPlaceholders, comment],
    requiredInBody: [], subjectToken: false,
    starter: {
      subject: 'Ticket [#{{ticket.number}}] transferred to {{ticket.department}}: {{ticket.subject}}',
      body: 'Hello {{recipient.name}},\n\nTicket #{{ticket.number}}, "{{ticket.subject}}", was transferred to {{ticket.department}}.\n\n{{comment}}\n\nOpen it: {{ticket.url}}',
    },
  },
  {
    name: 'overdue-alert', label: 'Overdue alert', audience: 'Agents',
    when: 'Sent once each time a ticket becomes overdue: to the assigned agent, or to the department’s manager and agents when nobody is assigned. Settings: “Alert to agents: ticket overdue”.',
    placeholders: alertPlaceholders,
    requiredInBody: [], subjectToken: false,
    starter: {
      subject: 'Overdue: [#{{ticket.number}}] {{ticket.subject}}',
      body: 'Hello {{recipient.name}},\n\nTicket #{{ticket.number}}, "{{ticket.subject}}" in {{ticket.department}}, is overdue.\n\nOpen it: {{ticket.url}}',
    },
  },
  {
    name: 'task-alert', label: 'Task alert', audience: 'Agent',
    when: 'Sent to an agent given a task on a ticket by someone else. Settings: “Alert to agents: ticket assigned”.',
    placeholders: [...alertPlaceholders,
      { key: 'task.title', about: 'The task.', get: (v) => str(v.taskTitle) },
      { key: 'task.due', about: 'Its due date as a line “Due: …”; empty when it has none.', get: (v) => (v.taskDue ? `Due: ${str(v.taskDue)}` : '') },
      { key: 'task.assigned_by', about: 'Who gave the task.', get: (v) => str(v.byName) }],
    requiredInBody: [], subjectToken: false,
    starter: {
      subject: 'Task for you on [#{{ticket.number}}] {{ticket.subject}}',
      body: 'Hello {{recipient.name}},\n\n{{task.assigned_by}} gave you a task on ticket #{{ticket.number}}, "{{ticket.subject}}":\n\n  {{task.title}}\n\n{{task.due}}\n\nOpen the ticket: {{ticket.url}}',
    },
  },
  {
    name: 'access-link', label: 'Ticket access link', audience: 'Requester or CC who asked',
    when: 'Sent to a requester or CC who asks for a link to their ticket on the portal (“Check ticket status”). It carries the link, so {{ticket.url}} is required.',
    placeholders: [userName, number, subject, userUrl, validFor('hours', 'validHours'), helpdesk],
    requiredInBody: ['ticket.url'], subjectToken: false,
    starter: {
      subject: 'Your link to ticket #{{ticket.number}}',
      body: 'Dear {{recipient.name}},\n\nYou asked for a link to your ticket #{{ticket.number}}, "{{ticket.subject}}".\nOpen it here (the link works for {{link.valid_for}}):\n{{ticket.url}}\n\nIf you did not ask for this, you can ignore this email: nobody can open the ticket without the link.\n\n{{helpdesk.name}}',
    },
  },
  {
    name: 'signin-link', label: 'Portal sign-in link', audience: 'Portal user who asked',
    when: 'Sent to a user who asks to sign in to the portal with their email address. It carries the one-time link, so {{signin.url}} is required.',
    placeholders: [userName, { key: 'signin.url', link: true, about: 'The one-time sign-in link.', get: (v) => str(v.signInUrl) }, validFor('minutes', 'validMinutes'), helpdesk],
    requiredInBody: ['signin.url'], subjectToken: false,
    starter: {
      subject: 'Sign in to see your tickets',
      body: 'Dear {{recipient.name}},\n\nYou asked to sign in to {{helpdesk.name}} to see your tickets.\nSign in here (the link works once, for {{link.valid_for}}):\n{{signin.url}}\n\nIf you did not ask for this, you can ignore this email: nobody can sign in without the link.\n\n{{helpdesk.name}}',
    },
  },
  {
    name: 'password-reset', label: 'Agent password reset', audience: 'Agent',
    when: 'Sent to an agent who asked to reset their password, or whose reset an admin started. It carries the one-time link, so {{reset.url}} is required.',
    placeholders: [{ key: 'recipient.name', about: 'The agent’s name.', get: (v) => str(v.name) }, { key: 'reset.url', link: true, about: 'The one-time link to choose a new password.', get: (v) => str(v.link) }, validFor('minutes', 'minutes'), helpdesk],
    requiredInBody: ['reset.url'], subjectToken: false,
    starter: {
      subject: 'Reset your {{helpdesk.name}} password',
      body: 'Hello {{recipient.name}},\n\nA password reset was requested for your agent account at {{helpdesk.name}}.\nChoose a new password here (the link works once, for {{link.valid_for}}):\n\n{{reset.url}}\n\nIf you did not expect this message, you can ignore it; your password stays as it is.',
    },
  },
];

const BY_NAME = new Map(MAIL_TEMPLATES.map((t) => [t.name, t]));

/** The spec of an editable notification, or undefined. */
export function mailTemplateSpec(name: string): MailTemplateSpec | undefined {
  return BY_NAME.get(name);
}

/** The placeholder values of one message, from the variables its service passed. */
export function placeholderValues(spec: MailTemplateSpec, vars: MailVars): Record<string, string> {
  return Object.fromEntries(spec.placeholders.map((p) => [p.key, p.get(vars)]));
}

/** The keys whose values are links the help desk made (clickable in HTML). */
export function linkKeys(spec: MailTemplateSpec): Set<string> {
  return new Set(spec.placeholders.filter((p) => p.link).map((p) => p.key));
}

/** Sample variables for previews: a made-up ticket, people and links on the help desk's address. */
export function sampleVars(spec: MailTemplateSpec, base: { helpdeskName: string; publicUrl: string }): MailVars {
  const u = base.publicUrl;
  return {
    ...base,
    ticket: { number: '482913', subject: 'Printer on floor 2 prints blank pages', status: 'open', department: 'Support' },
    ticketUrl: `${u}/tickets/access?token=SAMPLE-TOKEN`, agentUrl: `${u}/scp/tickets/42`,
    userName: 'Kim Requester', requesterName: 'Kim Requester', isCc: false, requester: { name: 'Kim Requester', email: 'kim@example.com' },
    agentName: 'Alex Agent', name: 'Alex Agent', posterName: 'Kim Requester',
    message: 'Since this morning the printer on floor 2 prints blank pages.\nI already tried switching it off and on.',
    comment: 'Kim is waiting for a call back today.', status: 'resolved',
    taskTitle: 'Order a new toner cartridge', taskDue: '2026-03-05 17:00', byName: 'Jo Lead',
    validHours: 24, validMinutes: 60, minutes: 60,
    signInUrl: `${u}/signin/link?token=SAMPLE-TOKEN`, link: `${u}/scp/password/reset?token=SAMPLE-TOKEN`,
    ...spec.sample,
  };
}
