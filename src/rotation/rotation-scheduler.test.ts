// The rotation job under a fake clock: fires on its cron expression, rotates only what is due, once per firing
// even with two would-be leaders (the leader fence and the job record), and a new leader catches up once.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../test/helpers/temp-store.js';
import { FakeTime } from '../../test/helpers/fake-time.js';
import { keys } from '../store/keys.js';
import { listJson, putValue, type Compare } from '../store/cluster-store.js';
import { putCertificateRecordOp } from '../store/certificate-records.js';
import { generateClusterCertificates, generateInternalCa, issueInternodeCertificate, type ClusterCertificates } from '../node/cluster-pki.js';
import { InternalRotation } from './internal-rotation.js';
import { RotationScheduler } from './rotation-scheduler.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.parse('2026-03-01T10:20:00Z');
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

let initial: ClusterCertificates;
let temp: TempStore;
let time: FakeTime;
let schedulers: RotationScheduler[];

beforeAll(async () => {
  initial = await generateClusterCertificates('cluster.local', new Date(START));
}, 60_000);

beforeEach(async () => {
  temp = await openTempStore('certplane-rotation-job-');
  time = new FakeTime(START);
  schedulers = [];
  const { internal_ca: ca, ...certificates } = initial;
  await temp.store.txn({
    success: [
      { type: 'put', key: keys.cluster, value: JSON.stringify({ name: 'cluster.local' }) },
      { type: 'put', key: keys.internalCa, value: JSON.stringify(ca) },
      ...Object.entries(certificates).map(([name, pair]) => putCertificateRecordOp(name, pair)),
    ],
  });
});

afterEach(async () => {
  for (const s of schedulers) await s.close();
  await temp.destroy();
});

async function setJob(settings: Record<string, unknown>): Promise<void> {
  await putValue(temp.store, keys.jobScheduler, JSON.stringify({ cert_rotation_job_settings: settings }));
  await time.settle();
}

async function start(fence?: () => Compare | undefined): Promise<RotationScheduler> {
  const rotation = new InternalRotation({ store: temp.store, clock: time.clock, pki: { issueInternode: issueInternodeCertificate, generateCa: generateInternalCa } });
  const scheduler = new RotationScheduler({ store: temp.store, clock: time.clock, log: silent, rotation, timer: time, ...(fence === undefined ? {} : { fence }) });
  schedulers.push(scheduler);
  time.subject = { settled: () => Promise.all(schedulers.map((s) => s.settled())).then(() => undefined) };
  await scheduler.start();
  await time.settle();
  return scheduler;
}

/** The job's rotations, from the audit events of its actor. */
async function jobRotations(): Promise<Array<{ certificate_name: string; time: string }>> {
  return (await listJson<{ user_email?: string; certificate_name: string; time: string }>(temp.store, keys.eventPrefix)).filter((e) => e.user_email === 'cert_rotation_job');
}

describe('RotationScheduler', () => {
  it('does nothing before the cron fires, and at a firing rotates only what is within expiry_days_before_rotation', async () => {
    await setJob({ cron_expression: '0 * * * *', enabled: true, expiry_days_before_rotation: 60 });
    await start();
    await time.advanceMs(30 * 60_000); // 10:50: the 11:00 firing has not come
    expect(await jobRotations()).toEqual([]);
    await time.advanceMs(20 * 60_000); // 11:10: fired at 11:00, the 90-day certificates are not due
    expect(await jobRotations()).toEqual([]);
    await time.advanceMs(31 * DAY); // 59 days left: due at the next firing
    const rotated = await jobRotations();
    expect(rotated.map((e) => e.certificate_name).sort()).toEqual(['ccs_internode_encryption', 'data_internode_encryption']);
    await time.advanceMs(3 * HOUR); // the new certificates are 90 days again
    expect(await jobRotations()).toHaveLength(2);
  }, 60_000);

  it('rotates nothing while disabled', async () => {
    await setJob({ cron_expression: '0 * * * *', enabled: false, expiry_days_before_rotation: 90 });
    await start();
    await time.advanceMs(3 * HOUR);
    expect(await jobRotations()).toEqual([]);
  });

  it('rotates once per firing with two would-be leaders: the one without the fence writes nothing', async () => {
    await putValue(temp.store, keys.leader('cluster'), 'A');
    const fenceOf = (who: string) => (): Compare => ({ key: keys.leader('cluster'), target: 'value', op: '==', value: who });
    await setJob({ cron_expression: '0 * * * *', enabled: true, expiry_days_before_rotation: 90 });
    await start(fenceOf('A'));
    await start(fenceOf('B'));
    await time.advanceMs(HOUR); // 11:20
    expect((await jobRotations()).map((e) => e.certificate_name).sort()).toEqual(['ccs_internode_encryption', 'data_internode_encryption']);
    await time.advanceMs(HOUR); // 12:20
    expect(await jobRotations()).toHaveLength(4);
  }, 60_000);

  it('a new leader catches up once with a firing it missed, and not again for the firing the old leader ran', async () => {
    await setJob({ cron_expression: '0 * * * *', enabled: true, expiry_days_before_rotation: 90 });
    const first = await start();
    await time.advanceMs(HOUR); // ran at 11:00
    expect(await jobRotations()).toHaveLength(2);
    await first.close();
    await start(); // 11:20: the 11:00 firing was handled
    expect(await jobRotations()).toHaveLength(2);
    await time.advanceMs(HOUR); // 12:00 fires
    expect(await jobRotations()).toHaveLength(4);
    // No leader from 12:20 to 14:30 (the 13:00 and 14:00 firings are missed): the next leader runs once at start.
    for (const s of schedulers) await s.close();
    await time.advanceMs(2 * HOUR + 10 * 60_000);
    await start();
    expect(await jobRotations()).toHaveLength(6);
    await time.advanceMs(20 * 60_000); // 14:50
    expect(await jobRotations()).toHaveLength(6);
  }, 60_000);
});
