import { describe, expect, it } from 'vitest';
import { slaFacts } from '../../src/domain/sla/sla-facts.ts';

const now = new Date('2026-03-10T12:00:00Z');

describe('slaFacts', () => {
  it('is pending (met null) while open and not yet due', () => {
    const f = slaFacts({ created_at: '2026-03-10 08:00:00.000', due_at: '2026-03-10 14:00:00.000', state: 'open' }, now);
    expect(f).toEqual({ firstResponseSeconds: null, resolutionSeconds: null, dueAt: new Date('2026-03-10T14:00:00Z'), met: null, breachedBySeconds: null });
  });

  it('is breached, by a growing amount, while open past due', () => {
    const row = { created_at: '2026-03-10 08:00:00.000', due_at: '2026-03-10 11:00:00.000', state: 'open' };
    expect(slaFacts(row, now)).toMatchObject({ met: false, breachedBySeconds: 3600, resolutionSeconds: null });
    expect(slaFacts(row, new Date('2026-03-10T13:30:00Z'))).toMatchObject({ met: false, breachedBySeconds: 9000 });
  });

  it('is not yet breached at the due instant itself', () => {
    const f = slaFacts({ created_at: '2026-03-10 08:00:00.000', due_at: '2026-03-10 12:00:00.000', state: 'open' }, now);
    expect(f).toMatchObject({ met: null, breachedBySeconds: null });
  });

  it('is met when resolved at or before the due date', () => {
    const early = slaFacts({ created_at: '2026-03-10 08:00:00.000', first_response_at: '2026-03-10 08:15:00.000', closed_at: '2026-03-10 10:00:00.000', due_at: '2026-03-10 11:00:00.000', state: 'closed' }, now);
    expect(early).toEqual({ firstResponseSeconds: 900, resolutionSeconds: 7200, dueAt: new Date('2026-03-10T11:00:00Z'), met: true, breachedBySeconds: 0 });
    const onTheDot = slaFacts({ created_at: '2026-03-10 08:00:00.000', closed_at: '2026-03-10 11:00:00.000', due_at: '2026-03-10 11:00:00.000', state: 'closed' }, now);
    expect(onTheDot).toMatchObject({ met: true, breachedBySeconds: 0, resolutionSeconds: 10800 });
  });

  it('is breached, by the fixed amount, when resolved late (now does not matter)', () => {
    const row = { created_at: '2026-03-10 08:00:00.000', closed_at: '2026-03-10 11:00:30.000', due_at: '2026-03-10 11:00:00.000', state: 'closed' };
    expect(slaFacts(row, now)).toMatchObject({ met: false, breachedBySeconds: 30, resolutionSeconds: 10830 });
    expect(slaFacts(row, new Date('2027-01-01T00:00:00Z'))).toMatchObject({ met: false, breachedBySeconds: 30 });
  });

  it('has no verdict without a due date, but still reports the times', () => {
    const f = slaFacts({ created_at: '2026-03-10 08:00:00.000', first_response_at: '2026-03-10 09:00:00.000', closed_at: '2026-03-10 10:00:00.000', due_at: null, state: 'closed' }, now);
    expect(f).toEqual({ firstResponseSeconds: 3600, resolutionSeconds: 7200, dueAt: null, met: null, breachedBySeconds: null });
  });

  it('treats a reopened ticket as open even if a closed_at was left behind', () => {
    const f = slaFacts({ created_at: '2026-03-10 08:00:00.000', closed_at: '2026-03-10 09:00:00.000', due_at: '2026-03-10 11:00:00.000', state: 'open' }, now);
    expect(f).toMatchObject({ resolutionSeconds: null, met: false, breachedBySeconds: 3600 });
  });

  it('accepts Date values and rows without a state (closed_at decides)', () => {
    const f = slaFacts({ created_at: new Date('2026-03-10T08:00:00Z'), closed_at: new Date('2026-03-10T09:00:00Z'), due_at: new Date('2026-03-10T08:30:00Z') }, now);
    expect(f).toMatchObject({ resolutionSeconds: 3600, met: false, breachedBySeconds: 1800 });
  });
});
