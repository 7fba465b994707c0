import { describe, expect, it } from 'vitest';
import { alertSettingsProblems, alertView, applyAlertChanges, defaultAlertEvent, type AlertChange } from './alerts.js';

const change = (subject: string, raised: boolean, value: Record<string, unknown> = {}): AlertChange => ({
  name: 'cluster_certs_about_to_expire',
  subject,
  raised,
  severity: 'WARNING',
  value,
  description: `${subject} ${raised ? 'raised' : 'cleared'}`,
});

describe('alert records', () => {
  it('is raised while any subject is, and change_time/change_value move only when the state flips', () => {
    const one = applyAlertChanges(undefined, 'cluster_certs_about_to_expire', [change('proxy', true, { threshold: '45' })], 't1');
    expect(one).toMatchObject({ state: true, change_time: 't1', change_value: { state: true, threshold: '45' }, severity: 'WARNING' });
    const two = applyAlertChanges(one, 'cluster_certs_about_to_expire', [change('api', true)], 't2');
    expect(two.change_time).toBe('t1');
    expect(Object.keys(two.instances).sort()).toEqual(['api', 'proxy']);
    const three = applyAlertChanges(two, 'cluster_certs_about_to_expire', [change('proxy', false)], 't3');
    expect(three.state).toBe(true);
    const four = applyAlertChanges(three, 'cluster_certs_about_to_expire', [change('api', false, { threshold: '45' })], 't4');
    expect(four).toMatchObject({ state: false, change_time: 't4', change_value: { state: false, threshold: '45' }, instances: {} });
  });

  it('keeps the first raise time of a subject raised again (a refresh)', () => {
    const one = applyAlertChanges(undefined, 'cluster_certs_about_to_expire', [change('proxy', true)], 't1');
    const again = applyAlertChanges(one, 'cluster_certs_about_to_expire', [change('proxy', true, { days_left: 3 })], 't2');
    expect(again.instances.proxy).toMatchObject({ since: 't1', value: { days_left: 3 } });
  });
});

describe('alert views', () => {
  const raised = applyAlertChanges(undefined, 'cluster_certs_about_to_expire', [change('proxy', true, { threshold: '45' })], '2026-01-01T00:00:00.000Z');
  const cluster = (enabled: boolean) => ({ alert_settings: { cluster_certs_about_to_expire: { enabled, threshold: '45' } } }) as never;

  it('shows an RS alert object with the threshold as a string', () => {
    expect(alertView('cluster_certs_about_to_expire', raised, cluster(true), false)).toEqual({
      change_time: '2026-01-01T00:00:00.000Z',
      change_value: { state: true, threshold: '45' },
      enabled: true,
      severity: 'WARNING',
      state: true,
      threshold: '45',
      subjects: [{ subject: 'proxy', since: '2026-01-01T00:00:00.000Z', description: 'proxy raised' }],
    });
  });

  it('shows a disabled alert as disabled with state false, unless ignore_settings', () => {
    expect(alertView('cluster_certs_about_to_expire', raised, cluster(false), false)).toMatchObject({ enabled: false, state: false, change_value: { state: false }, subjects: [] });
    expect(alertView('cluster_certs_about_to_expire', raised, cluster(false), true)).toMatchObject({ enabled: false, state: true });
  });

  it('shows a never-raised alert with state false and no change_time', () => {
    expect(alertView('cluster_ocsp_query_failed', undefined, undefined, false)).toEqual({ change_time: null, change_value: { state: false }, enabled: true, severity: 'ERROR', state: false, subjects: [] });
  });
});

describe('alert events and settings', () => {
  it('builds a default event: the alert name as type, INFO when cleared', () => {
    expect(defaultAlertEvent(change('proxy', false, { threshold: '45' }), 't')).toEqual({ time: 't', type: 'cluster_certs_about_to_expire', severity: 'INFO', state: false, subject: 'proxy', threshold: '45', description: 'proxy cleared' });
  });

  it.each([['0'], ['366'], ['-1'], ['1.5'], [''], ['99999']])('refuses the threshold %j', (threshold) => {
    expect(alertSettingsProblems({ cluster_certs_about_to_expire: { enabled: true, threshold } })).toHaveLength(1);
  });

  it.each([['1'], ['45'], ['365']])('accepts the threshold %j', (threshold) => {
    expect(alertSettingsProblems({ node_internal_certs_about_to_expire: { threshold }, cluster_ocsp_query_failed: true })).toEqual([]);
  });
});
