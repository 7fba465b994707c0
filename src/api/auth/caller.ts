// Who is calling: the user behind the credentials and how they proved it.
import type { RoleName } from '../../domain/rbac.js';

export interface Caller {
  uid: number;
  name: string;
  email: string;
  role: RoleName;
  auth_method: 'regular' | 'certificate';
  /** How this request was authenticated ('session': the Cluster Manager UI's cookie on the cm port). */
  via: 'basic' | 'certificate' | 'jwt' | 'session';
  /** For a token (via 'jwt'): the session's login time, Unix seconds (refresh_jwt keeps it). */
  auth_time?: number;
}
