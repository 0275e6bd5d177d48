import type { Knex } from 'knex';

// A queue filtered by source or by a status of the closed state (ticket-queue-queries.ts: the
// Closed queue has two, resolved and closed) tested each ticket of the queue's state for it, read
// from the table: neither column is in a queue index. A value few tickets have (Chat, Walk-in;
// Resolved on a desk that closes without resolving) walked the whole state to fill a page and its
// count: 9–59 s at 1M tickets. These indexes hold each source's tickets of a state, and each status's
// tickets, in update order (the queues' default), so a page is that range read backwards and its
// total that range counted to its cap, whatever the value. (Without updated_at, MariaDB read a
// common source's range and sorted it: 0.2–1.4 s. An index on updated_at alone, tried for the API's
// updatedSince, made MariaDB walk it for an agent's page parts: dropped.)
const INDEXES: [string, string[]][] = [
  ['tickets_source_queue', ['source', 'state', 'updated_at']],
  ['tickets_status_queue', ['status', 'updated_at']],
];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => {
    for (const [name, columns] of INDEXES) t.index(columns, name);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => {
    for (const [name, columns] of INDEXES) t.dropIndex(columns, name);
  });
}
