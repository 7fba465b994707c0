// Parameters of the alert endpoints (RS "Cluster alerts requests", "Node alerts requests").
import { Type } from 'typebox';

export const AlertQuery = Type.Object({ ignore_settings: Type.Optional(Type.String({ maxLength: 5 })) }, { additionalProperties: false });
export const AlertName = Type.String({ pattern: '^[a-z0-9_]{1,64}$' });
export const NodeUid = Type.String({ pattern: '^[1-9][0-9]{0,9}$' });
