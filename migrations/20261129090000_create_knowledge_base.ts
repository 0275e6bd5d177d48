import type { Knex } from 'knex';
import { createTable, timestamps } from './support/table-options.ts';

// The knowledge base (osTicket's "Knowledgebase"): categories of articles (FAQs) that agents write and
// end users read in the portal (src/domain/kb/). Internal categories and articles are for agents only.
export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'kb_categories', (t) => {
    t.increments('id');
    t.string('name', 120).notNullable().unique();
    t.text('description');
    t.boolean('is_public').notNullable().defaultTo(true); // false: internal, agents only (with all its articles)
    t.integer('sort_order').notNullable().defaultTo(0); // lower first, then by name
    timestamps(t);
  });
  await createTable(knex, 'kb_articles', (t) => {
    t.increments('id');
    t.integer('category_id').unsigned().notNullable().references('id').inTable('kb_categories');
    t.string('title', 191).notNullable(); // the question
    t.text('body').notNullable(); // the answer: plain text with light formatting (kb-format.ts), never HTML
    t.string('visibility', 8).notNullable().defaultTo('public'); // 'public' | 'featured' (public, shown first) | 'internal'
    t.integer('updated_by_agent_id').unsigned().references('id').inTable('agents'); // who wrote the current text
    timestamps(t);
    t.index(['category_id', 'visibility']);
    t.index(['visibility']);
  });
  // Help topics an article answers questions about ("Still need help?" opens a ticket with the first).
  // Deleting either side just removes the link.
  await createTable(knex, 'kb_articles_topics', (t) => {
    t.integer('article_id').unsigned().notNullable().references('id').inTable('kb_articles').onDelete('CASCADE');
    t.integer('topic_id').unsigned().notNullable().references('id').inTable('help_topics').onDelete('CASCADE');
    t.primary(['article_id', 'topic_id']);
    t.index(['topic_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['kb_articles_topics', 'kb_articles', 'kb_categories']) await knex.schema.dropTableIfExists(t);
}
