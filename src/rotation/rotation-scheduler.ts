// The certificate rotation job (job_scheduler cert_rotation_job_settings): on the leader only, when the cron
// expression fires, regenerates the internal certificates that expire within expiry_days_before_rotation days, and
// ends an internal CA renewal whose overlap is over (internal-rotation.ts).
//
// Once per cluster: the job's last run lives in the store (keys.certRotationJob) and is written in the same
// transaction as the rotation it made, guarded by a compare on its previous value and by the leader fence. A
// leader that lost its lease, or two leaders for a moment, cannot both rotate for one firing: the second write
// fails its compares and the next pass finds nothing due. A new leader reads the last run and catches up once
// with a firing it missed (the certificates are evaluated at that moment, not once per missed firing).
//
// States and transitions (a LoopWorker, lib/loop.ts, runs the passes):
//   stopped --start()--> checking
//   checking --disabled--> idle (a settings change wakes it)
//   checking --not yet due--> waiting(next firing) --timer / settings change--> checking
//   checking --due: rotated or nothing due--> waiting(next firing)
//   checking --write refused (fence lost, or a concurrent rotation)--> backoff --timer / change--> checking
//   checking --store error--> backoff
//   any --close()--> closed
import { LoopWorker, type LoopTimer, type WorkerLog } from '../lib/loop.js';
import type { Clock } from '../lib/clock.js';
import { nextCronTime } from '../lib/cron.js';
import type { ClusterStore, Compare, Watch } from '../store/cluster-store.js';
import { keys } from '../store/keys.js';
import { followPrefixesWaking } from '../store/follow-prefix.js';
import { certificateRecordKey } from '../store/certificate-records.js';
import {
  INTERNODE_CERTIFICATE_NAMES,
  isOverlapOver,
  jobSchedulerOf,
  type InternalCaRenewal,
  type JobSchedulerPatch,
  type RotationActor,
} from '../domain/internal-rotation.js';
import type { InternalRotation } from './internal-rotation.js';

export type RotationSchedulerState =
  | { name: 'stopped' }
  | { name: 'checking' }
  | { name: 'idle' }
  | { name: 'waiting'; dueAt: Date }
  | { name: 'backoff'; reason: string; retryAt: Date }
  | { name: 'closed' };

/** The job's record in the store. */
export interface CertRotationJobRecord {
  /** The firing the job handled last (ISO). */
  last_run: string;
  /** What that run rotated. */
  rotated: string[];
}

/** The actor of the job's audit events. */
export const ROTATION_JOB_ACTOR: RotationActor = { uid: 0, email: 'cert_rotation_job' };

export interface RotationSchedulerDeps {
  store: ClusterStore;
  clock: Clock;
  log: WorkerLog;
  rotation: InternalRotation;
  timer?: LoopTimer;
  /** The leader fence added to every write (LeaderElection.fence). */
  fence?: () => Compare | undefined;
  retryDelayMs?: number;
}

/** A timer never waits longer than this; a pass then simply computes the next firing again. */
const MAX_WAIT_MS = 3_600_000;

export class RotationScheduler extends LoopWorker<RotationSchedulerState> {
  /** When this leader took over: the baseline of the first firing when the job never ran. */
  private startedAt: Date;
  /** The last firing this instance handled (also when nothing was due, which writes nothing). */
  private handledUntil: Date | undefined;
  /** Passes that found a firing due (tests and diagnostics). */
  runs = 0;

  constructor(private readonly deps: RotationSchedulerDeps) {
    super({ ...deps, failure: 'certificate rotation job could not read or write the store; retrying', retryDelayMs: deps.retryDelayMs ?? 5000 });
    this.startedAt = deps.clock.now();
  }

  override async start(): Promise<void> {
    this.startedAt = this.deps.clock.now();
    await super.start();
  }

  protected follow(wake: () => void): Promise<Watch[]> {
    return followPrefixesWaking(this.deps.store, [keys.jobScheduler, keys.internalCaRenewal], wake);
  }

  protected async pass(): Promise<void> {
    this.state = { name: 'checking' };
    const { store, clock, rotation } = this.deps;
    const [settingsKv, jobKv, renewalKv] = await Promise.all([store.get(keys.jobScheduler), store.get(keys.certRotationJob), store.get(keys.internalCaRenewal)]);
    if (this.isClosed()) return;
    const settings = jobSchedulerOf(settingsKv === undefined ? undefined : (JSON.parse(settingsKv.value) as JobSchedulerPatch)).cert_rotation_job_settings;
    const job = jobKv === undefined ? undefined : (JSON.parse(jobKv.value) as CertRotationJobRecord);
    const renewal = renewalKv === undefined ? undefined : (JSON.parse(renewalKv.value) as InternalCaRenewal);
    const now = clock.now();
    const fence = this.deps.fence?.();
    const guardCompare: Compare[] = [
      jobKv === undefined ? { key: keys.certRotationJob, target: 'version', op: '==', value: 0 } : { key: keys.certRotationJob, target: 'mod', op: '==', value: jobKv.modRevision },
      ...(fence === undefined ? [] : [fence]),
    ];
    const record = (rotated: string[]): CertRotationJobRecord => ({ last_run: now.toISOString(), rotated });

    // The end of a CA renewal does not wait for the cron expression: the overlap's end is a date.
    if (renewal !== undefined && isOverlapOver(renewal, now)) {
      const done = await rotation.retireExpiredOverlap(ROTATION_JOB_ACTOR, { compare: guardCompare, success: (rotated) => [{ type: 'put', key: keys.certRotationJob, value: JSON.stringify(record(rotated.length > 0 ? rotated : ['internal_ca'])) }] });
      if (this.isClosed()) return;
      if (done === undefined) return this.refused();
      if (done !== 'none') {
        this.deps.log.info({ job: 'cert_rotation', step: done }, done === 'retired' ? 'internal CA renewal finished: the previous CA is no longer trusted' : 'internal CA renewal: internode certificates re-issued from the new CA');
        this.loop.wake(); // the next step at once
        return;
      }
    }
    const retireAt = renewal === undefined ? undefined : Date.parse(renewal.retire_after);
    if (!settings.enabled) {
      this.state = { name: 'idle' };
      if (retireAt !== undefined) this.loop.schedule(Math.min(MAX_WAIT_MS, Math.max(0, retireAt - now.getTime())));
      return;
    }
    const lastRun = latest(job === undefined ? undefined : new Date(job.last_run), this.handledUntil) ?? this.startedAt;
    const due = nextCronTime(settings.cron_expression, lastRun);
    if (due === undefined) {
      this.state = { name: 'idle' };
      this.deps.log.warn({ job: 'cert_rotation', cron_expression: settings.cron_expression }, 'certificate rotation job: the cron expression never fires');
      return;
    }
    if (due.getTime() <= now.getTime()) {
      this.runs += 1;
      // Only a run that rotates writes (its record goes in the rotation's transaction); a run with nothing due
      // writes nothing, and the next firing evaluates again.
      const outcome = await rotation.tryRotate({
        names: INTERNODE_CERTIFICATE_NAMES,
        actor: ROTATION_JOB_ACTOR,
        dueWithinDays: settings.expiry_days_before_rotation,
        guard: { compare: guardCompare, success: (rotated) => [{ type: 'put', key: keys.certRotationJob, value: JSON.stringify(record(rotated)) }] },
      });
      if (this.isClosed()) return;
      if (outcome === undefined) return this.refused();
      this.handledUntil = now;
      if (outcome.revision !== undefined) {
        // Issue 17.10: the replaced private keys do not stay in the store's history (the nodes re-read the records).
        await store.forgetHistory(INTERNODE_CERTIFICATE_NAMES.map(certificateRecordKey), outcome.revision).catch((error: unknown) => this.deps.log.warn({ err: error }, 'certificate rotation job: could not forget the replaced keys'));
        for (const r of outcome.rotated) {
          this.deps.log.info({ job: 'cert_rotation', certificate: r.name, old_fingerprint: r.old_fingerprint, new_fingerprint: r.new_fingerprint, not_after: r.not_after }, 'internal certificate rotated by the scheduled job');
        }
      }
    }
    const next = nextCronTime(settings.cron_expression, now);
    const wakeAt = Math.min(next?.getTime() ?? Number.POSITIVE_INFINITY, retireAt ?? Number.POSITIVE_INFINITY);
    if (Number.isFinite(wakeAt)) {
      this.state = { name: 'waiting', dueAt: new Date(wakeAt) };
      this.loop.schedule(Math.min(MAX_WAIT_MS, Math.max(0, wakeAt - now.getTime())));
    } else {
      this.state = { name: 'idle' };
    }
  }

  private refused(): void {
    if (this.loop.wakePending) return;
    this.enterBackoff('the rotation could not be written (not the leader, or a concurrent change)', this.loop.backOff());
    this.deps.log.warn({ job: 'cert_rotation' }, 'certificate rotation job: write refused (leadership lost or a concurrent change); retrying later');
  }
}

function latest(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a.getTime() >= b.getTime() ? a : b;
}
