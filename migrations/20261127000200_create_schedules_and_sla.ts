import type { Knex } from 'knex';
import { createTable, timestamps } from './support/table-options.ts';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'schedules', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable().unique();
    t.string('kind', 16).notNullable(); // '24x7' | 'business'
    t.string('timezone', 64).notNullable().defaultTo('UTC'); // IANA zone the hours are read in
    t.text('notes');
    t.boolean('is_active').notNullable().defaultTo(true);
    timestamps(t);
  });
  await createTable(knex, 'schedule_entries', (t) => {
    t.increments('id');
    t.integer('schedule_id').unsigned().notNullable().references('id').inTable('schedules').onDelete('CASCADE');
    t.tinyint('weekday').notNullable(); // ISO: 1 = Monday … 7 = Sunday
    t.string('start_time', 5).notNullable(); // 'HH:MM' local
    t.string('end_time', 5).notNullable(); // 'HH:MM' local; <= start_time means overnight
    t.index(['schedule_id']);
  });
  await createTable(knex, 'schedule_holidays', (t) => {
    t.increments('id');
    t.integer('schedule_id').unsigned().notNullable().references('id').inTable('schedules').onDelete('CASCADE');
    t.string('name', 120).notNullable();
    t.string('date', 10).notNullable(); // 'YYYY-MM-DD' in the schedule's zone
    t.string('start_time', 5); // null with end_time null = the whole day
    t.string('end_time', 5);
    t.index(['schedule_id', 'date']);
  });
  await createTable(knex, 'sla_plans', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable().unique();
    t.integer('grace_minutes').unsigned().notNullable(); // working minutes until a ticket is due
    t.integer('schedule_id').unsigned().references('id').inTable('schedules'); // null = help desk default
    t.boolean('is_active').notNullable().defaultTo(true);
    t.boolean('alerts_disabled').notNullable().defaultTo(false); // no overdue alerts for this plan
    t.text('notes');
    timestamps(t);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['sla_plans', 'schedule_holidays', 'schedule_entries', 'schedules']) await knex.schema.dropTableIfExists(t);
}
