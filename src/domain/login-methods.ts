// The API must keep at least one way in: Basic authentication (control_plane_basic_authentication) or
// client-certificate authentication (mtls_certificate_authentication). A settings change that would turn
// both off is refused, so a cluster can never lock every operator out (tokens are issued only to a caller
// who logged in one of these two ways).
import type { ClusterDocument } from './cluster-settings.js';

/** Why these settings leave no way to log in, or undefined when a way remains. */
export function noLoginMethodReason(
  settings: Pick<ClusterDocument, 'control_plane_basic_authentication' | 'mtls_certificate_authentication'>,
): string | undefined {
  if (settings.control_plane_basic_authentication !== false || settings.mtls_certificate_authentication) return undefined;
  return (
    'control_plane_basic_authentication and mtls_certificate_authentication cannot both be off: nobody could log in. ' +
    'Enable mtls_certificate_authentication (with mtls_trusted_ca installed and a certificate user able to log in) before turning Basic authentication off'
  );
}
