/**
 * Knowledge base links in an agent's reply: the ticket page offers the public articles that relate
 * to the ticket's help topic, and the featured ones (kbArticlesForTicket, one part of the page's
 * choice-list statement), and inserts the chosen one as its question and portal address.
 */
import type { Knex } from 'knex';
import type { ServiceContext } from '../context.ts';
import { NotFound } from '../errors.ts';
import { assertStaff } from '../tickets/ticket-agent-common.ts';
import { loadTicketFor } from '../tickets/ticket-policy.ts';

type Db = Knex | Knex.Transaction;

/** Public articles of public categories: the builder both reads start from. */
function publicArticles(db: Db) {
  return db('kb_articles as ka').join('kb_categories as kc', 'kc.id', 'ka.category_id').where('kc.is_public', true).whereIn('ka.visibility', ['public', 'featured']);
}

/**
 * The articles offered on a ticket's page, as a part of its UNION ALL of choice lists (kind 'kb',
 * id, name, ord): those related to the ticket's help topic, then the featured ones.
 */
export function kbArticlesForTicket(db: Db, topicId: number | null): Knex.QueryBuilder {
  return publicArticles(db)
    .where((w) => {
      w.where('ka.visibility', 'featured');
      if (topicId) w.orWhereIn('ka.id', db('kb_articles_topics').where('topic_id', topicId).select('article_id'));
    })
    .select(db.raw('? as kind', ['kb']), 'ka.id', db.ref('ka.title').as('name'), db.raw('0 as ord'));
}

/**
 * The text a reply gets for a public article: its question and its address in the portal (the
 * configured public URL). The actor must see the ticket. @throws Forbidden, NotFound (TICKET_NOT_FOUND, KB_ARTICLE_NOT_FOUND)
 */
export async function kbLinkForTicket(ctx: ServiceContext, ticketId: number, articleId: number): Promise<string> {
  assertStaff(ctx.actor);
  await loadTicketFor(ctx.db, ctx.actor, { id: ticketId });
  const a = Number.isInteger(articleId) && articleId > 0 ? await publicArticles(ctx.db).where('ka.id', articleId).first('ka.id', 'ka.title') : undefined;
  if (!a) throw new NotFound('We could not find that public article.', 'KB_ARTICLE_NOT_FOUND');
  return `${a.title}\n${ctx.publicUrl.replace(/\/$/, '')}/kb/${a.id}`;
}
