import { describe, expect, it } from 'vitest';
import { memberApplyState } from './node-status.js';

describe('memberApplyState (the one definition of "applied")', () => {
  it('a member that is down has not applied, whatever it recorded', () => {
    expect(memberApplyState({ live: false, appliedRevision: 50 }, 10)).toBe('down');
  });
  it('a live member has applied once its recorded revision reaches the change', () => {
    expect(memberApplyState({ live: true, appliedRevision: 10 }, 10)).toBe('applied');
    expect(memberApplyState({ live: true, appliedRevision: 9 }, 10)).toBe('pending');
    expect(memberApplyState({ live: true, appliedRevision: undefined }, 10)).toBe('pending');
  });
  it('a failure recorded at or after the change is failed; an older one is still pending', () => {
    expect(memberApplyState({ live: true, appliedRevision: 5, failedRevision: 10, error: 'disk full' }, 10)).toBe('failed');
    expect(memberApplyState({ live: true, appliedRevision: 5, failedRevision: 8, error: 'disk full' }, 10)).toBe('pending');
  });
});
