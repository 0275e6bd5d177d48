/**
 * Counts that stop at a cap, as the queues, the dashboard and the admin lists show them: a count reads
 * at most cap + 1 rows or index entries whatever the size of the desk, and one past the cap shows as
 * "1,000+" (a next page still opens).
 */

/** Counts stop here: above it a queue shows "1,000+". Bounds the cost of every count at any desk size. */
export const COUNT_CAP = 1000;

/** "1,000+" for a count that reached its cap, else the number. */
export function countText(n: number, cap = COUNT_CAP): string {
  return n > cap ? `${cap.toLocaleString('en')}+` : String(n);
}

/** The number of pages as shown: "41+" when the total was cut at its cap (there is a next page, at least). */
export function pagesText(pages: number, capped: boolean): string {
  return capped ? `${pages}+` : String(pages);
}
