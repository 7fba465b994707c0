// The public keys certplane works with, and nothing else: RSA 2048-8192 bits with a small odd public exponent
// (3 to 2^32; 65537 in practice), EC on P-256/P-384/P-521, Ed25519. The upper bounds matter as much as the lower:
// the cost of checking a signature grows with the modulus and with the exponent, so a 16384-bit key or an
// exponent as large as the modulus would let one certificate cost tens of milliseconds of main-thread time per
// handshake or per chain check. Applied to every uploaded certificate and to every certificate a client presents.
import type { KeyObject, X509Certificate } from 'node:crypto';

export const RSA_MIN_BITS = 2048;
export const RSA_MAX_BITS = 8192;
export const RSA_MAX_EXPONENT = 2n ** 32n;
const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/**
 * Why this key would be costly to verify signatures with (RSA above RSA_MAX_BITS, an exponent outside the
 * bounds), or undefined: the part of keyBoundsViolation to check before any signature is.
 */
export function costlyKeyReason(key: KeyObject | X509Certificate): string | undefined {
  const pub = 'publicKey' in key ? key.publicKey : key;
  if (pub.asymmetricKeyType !== 'rsa' && pub.asymmetricKeyType !== 'rsa-pss') return undefined;
  const bits = pub.asymmetricKeyDetails?.modulusLength ?? 0;
  return bits < RSA_MIN_BITS ? undefined : keyBoundsViolation(pub);
}

/** Why this key is outside the accepted bounds, or undefined when it is fine. */
export function keyBoundsViolation(key: KeyObject | X509Certificate): string | undefined {
  const pub = 'publicKey' in key ? key.publicKey : key;
  const details = pub.asymmetricKeyDetails ?? {};
  switch (pub.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      const bits = details.modulusLength ?? 0;
      if (bits < RSA_MIN_BITS) return `RSA ${bits} bits (at least ${RSA_MIN_BITS} required)`;
      if (bits > RSA_MAX_BITS) return `RSA ${bits} bits (at most ${RSA_MAX_BITS} accepted)`;
      const e = details.publicExponent ?? 0n;
      if (e < 3n || e > RSA_MAX_EXPONENT || e % 2n === 0n) {
        return `RSA public exponent ${e > 1_000_000_000_000n ? `of ${e.toString(2).length} bits` : e.toString()} (an odd value from 3 to 2^32, normally 65537, required)`;
      }
      return undefined;
    }
    case 'ec': {
      const curve = details.namedCurve ?? 'unknown';
      return CURVES[curve] === undefined ? `EC curve ${curve} (P-256, P-384 or P-521 required)` : undefined;
    }
    case 'ed25519':
      return undefined;
    default:
      return `${pub.asymmetricKeyType ?? 'unknown'} keys are not accepted (RSA 2048-8192, EC P-256/P-384/P-521 or Ed25519 required)`;
  }
}
