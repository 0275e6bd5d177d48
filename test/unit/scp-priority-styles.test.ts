/** The priority badges' stylesheet: one rule per valid colour, text readable on it. */
import { describe, expect, it } from 'vitest';
import { priorityCss, textColorOn } from '../../src/web/scp/scp-priority-styles.ts';

describe('priority badge colours', () => {
  it('writes black text on light colours and white on dark ones', () => {
    // The install's pastel defaults, and saturated colours an admin might choose (pure red: black
    // contrasts 5.3:1 on it, white 4:1).
    for (const light of ['#FFC9C9', '#FEE7E7', '#FFFFF0', '#DDFFDD', '#FFFF00', '#FF9900', '#FF0000']) expect(textColorOn(light), light).toBe('#000');
    for (const dark of ['#B42318', '#000000', '#175CD3', '#6941C6']) expect(textColorOn(dark), dark).toBe('#fff');
  });

  it('writes one rule per priority and leaves out a stored value that is not a colour', () => {
    const css = priorityCss([
      { id: 1, color: '#FFC9C9' },
      { id: 2, color: 'red; } body { display: none' },
      { id: 3, color: '#b42318' },
    ]);
    expect(css.trim().split('\n')).toEqual([
      '.badge.prio-1 { background: #FFC9C9; color: #000; }',
      '.badge.prio-3 { background: #b42318; color: #fff; }',
    ]);
  });
});
