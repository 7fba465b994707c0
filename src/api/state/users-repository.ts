// Users in the store. Uniqueness of email, name and certificate subject line is guarded by index keys
// compared inside the same transaction, so two concurrent creates cannot both win. Updates and deletes compare
// the mod revision of the read the route decided on (StoredUser), so nothing is written over a newer version.
import type { ClusterStore, Compare, TxnOp } from '../../store/cluster-store.js';
import { keys } from '../../store/keys.js';
import type { UserRecord } from '../../domain/users.js';
import { ApiError } from '../../lib/api-error.js';
import { canonicalSubjectLine } from '../../domain/rfc2253.js';
import { createEntity, updateEntity, type EntityKind } from './entity-writes.js';

/** A user as read, with the mod revision an update or delete of it compares against. */
export interface StoredUser {
  record: UserRecord;
  modRevision: number;
}

export type UserWriteConflict = 'email_already_exists' | 'name_already_exists' | 'subject_line_already_exists';

export class UsersRepository {
  /** Users by uid; email, name and (certificate users) subject line are unique. */
  private readonly entity: EntityKind<UserRecord> = {
    counter: 'user_uid',
    key: keys.user,
    indexKeys: (user) => this.indexKeys(user),
  };

  constructor(private readonly store: ClusterStore) {}

  async list(): Promise<UserRecord[]> {
    const { kvs } = await this.store.list(keys.userPrefix);
    return kvs.map((kv) => JSON.parse(kv.value) as UserRecord);
  }

  async get(uid: number): Promise<UserRecord | undefined> {
    const kv = await this.store.get(keys.user(uid));
    return kv === undefined ? undefined : (JSON.parse(kv.value) as UserRecord);
  }

  /** The user with the mod revision of this read: what update() and delete() compare against. */
  async getWithRevision(uid: number): Promise<StoredUser | undefined> {
    const kv = await this.store.get(keys.user(uid));
    return kv === undefined ? undefined : { record: JSON.parse(kv.value) as UserRecord, modRevision: kv.modRevision };
  }

  /** Every user with its mod revision (e.g. the remaining admins a last-admin check relies on). */
  async listWithRevisions(): Promise<StoredUser[]> {
    const { kvs } = await this.store.list(keys.userPrefix);
    return kvs.map((kv) => ({ record: JSON.parse(kv.value) as UserRecord, modRevision: kv.modRevision }));
  }

  async findByEmail(email: string): Promise<UserRecord | undefined> {
    return this.findByIndex(keys.userEmailIndex(email));
  }

  async findByEmailWithRevision(email: string): Promise<StoredUser | undefined> {
    const index = await this.store.get(keys.userEmailIndex(email));
    return index === undefined ? undefined : this.getWithRevision(Number(index.value));
  }

  /** The user whose subject line has this canonical form (canonicalSubject / canonicalCertificateSubject). */
  async findBySubjectLine(canonicalSubject: string): Promise<UserRecord | undefined> {
    return this.findByIndex(keys.userSubjectIndex(canonicalSubject));
  }

  /** Allocates the next uid (or uses the requested one) and writes the user with its index keys. */
  async create(record: Omit<UserRecord, 'uid'> & { uid?: number }, alsoWrite?: (user: UserRecord) => TxnOp[]): Promise<UserRecord> {
    const created = await createEntity(this.store, this.entity, {
      requestedUid: record.uid,
      build: (uid) => ({ ...record, uid }),
      ...(alsoWrite === undefined ? {} : { alsoWrite }),
      onConflict: async (_attempt, user) => {
        await this.throwIfConflict(user, undefined);
        if (record.uid !== undefined && (await this.get(record.uid)) !== undefined) {
          throw new ApiError('uid_exists', `A user with uid ${record.uid} already exists`);
        }
        // Otherwise another create took the uid: try the next one.
      },
    });
    return created.record;
  }

  /**
   * Replaces a user, moving its index keys, only if it is still the version `read` (the route's grant decision
   * was made on it) and every `guards` compare holds; otherwise 409 (config_edit_conflict, or the index taken).
   */
  async update(read: StoredUser, next: UserRecord, alsoWrite: TxnOp[] = [], guards: Compare[] = []): Promise<void> {
    const previous = read.record;
    const result = await updateEntity(this.store, this.entity, { uid: previous.uid, modRevision: read.modRevision, previous, next, alsoWrite, alsoCompare: guards });
    if (!result.succeeded) {
      const current = await this.store.get(keys.user(previous.uid));
      if (current === undefined) throw new ApiError('not_found', `User ${previous.uid} does not exist`);
      if (current.modRevision === read.modRevision) await this.throwIfConflict(next, previous);
      throw concurrentChange(previous.uid);
    }
  }

  /** Deletes a user only if it is still the version `read` and every `guards` compare holds; otherwise 409. */
  async delete(read: StoredUser, alsoWrite: TxnOp[] = [], guards: Compare[] = []): Promise<void> {
    const user = read.record;
    const result = await this.store.txn({
      compare: [{ key: keys.user(user.uid), target: 'mod', op: '==', value: read.modRevision }, ...guards],
      success: [
        { type: 'delete', key: keys.user(user.uid) },
        { type: 'delete', key: keys.loginFailures(user.uid) },
        ...this.indexDeletes(user),
        ...alsoWrite,
      ],
    });
    if (!result.succeeded) throw concurrentChange(user.uid);
  }

  private async findByIndex(indexKey: string): Promise<UserRecord | undefined> {
    const index = await this.store.get(indexKey);
    return index === undefined ? undefined : this.get(Number(index.value));
  }

  private indexKeys(user: UserRecord): string[] {
    const result = [keys.userEmailIndex(user.email), keys.userNameIndex(user.name)];
    const subject = subjectIndexKey(user);
    if (subject !== undefined) result.push(subject);
    // Certificate users may have no email; an empty email is not indexed.
    return result.filter((key) => !key.endsWith('/'));
  }

  private indexDeletes(user: UserRecord): TxnOp[] {
    return this.indexKeys(user).map((key) => ({ type: 'delete' as const, key }));
  }

  private async throwIfConflict(next: UserRecord, previous: UserRecord | undefined): Promise<void> {
    const owner = async (key: string): Promise<boolean> => {
      const kv = await this.store.get(key);
      return kv !== undefined && Number(kv.value) !== previous?.uid;
    };
    // The subject first: a second user for one subject named after its CN is a duplicate subject, not name.
    const subject = subjectIndexKey(next);
    if (subject !== undefined && (await owner(subject))) {
      throw new ApiError('subject_line_already_exists', 'A user with this certificate_subject_line already exists (compared in canonical RFC 2253 form)');
    }
    if (next.email !== '' && (await owner(keys.userEmailIndex(next.email)))) {
      throw new ApiError('email_already_exists', 'A user with this email already exists');
    }
    if (await owner(keys.userNameIndex(next.name))) {
      throw new ApiError('name_already_exists', 'A user with this name already exists');
    }
  }
}

function concurrentChange(uid: number): ApiError {
  return new ApiError('config_edit_conflict', `User ${uid} (or the admins it relies on) was changed concurrently; retry`);
}

/**
 * The uniqueness index of a certificate user: its subject line in canonical form, so two spellings of one
 * name (`CN=a, O=b` and `CN=a,O=b`, `\2C` and `\,`) are one key. A stored line that no longer parses (never
 * accepted today) is indexed as written.
 */
function subjectIndexKey(user: UserRecord): string | undefined {
  if (user.auth_method !== 'certificate' || user.certificate_subject_line === '') return undefined;
  return keys.userSubjectIndex(canonicalSubjectLine(user.certificate_subject_line) ?? user.certificate_subject_line);
}
