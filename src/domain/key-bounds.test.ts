import { describe, expect, it } from 'vitest';
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { costlyKeyReason, keyBoundsViolation } from './key-bounds.js';
import { hugeExponentKeyPair } from '../../test/helpers/pki.js';

describe('keyBoundsViolation', () => {
  it('accepts RSA 2048-8192 with a small odd exponent, P-256/P-384/P-521 and Ed25519', () => {
    expect(keyBoundsViolation(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey)).toBeUndefined();
    expect(keyBoundsViolation(generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 }).publicKey)).toBeUndefined();
    for (const namedCurve of ['P-256', 'P-384', 'P-521']) expect(keyBoundsViolation(generateKeyPairSync('ec', { namedCurve }).publicKey)).toBeUndefined();
    expect(keyBoundsViolation(generateKeyPairSync('ed25519').publicKey)).toBeUndefined();
  });

  it('refuses RSA below 2048 or above 8192 bits, a huge exponent, other curves and other key types', async () => {
    expect(keyBoundsViolation(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey)).toMatch(/at least 2048/);
    // A 16384-bit modulus (not generated: that takes minutes here; the bound reads only its length).
    const modulus = randomBytes(2048);
    modulus[0] = modulus[0]! | 0x80;
    modulus[2047] = modulus[2047]! | 1;
    const big = createPublicKey({ key: { kty: 'RSA', n: modulus.toString('base64url'), e: 'AQAB' }, format: 'jwk' });
    expect(keyBoundsViolation(big)).toMatch(/RSA 16384 bits \(at most 8192/);
    expect(costlyKeyReason(big)).toMatch(/at most 8192/);
    const huge = (await hugeExponentKeyPair(2048)).publicKey;
    expect(keyBoundsViolation(huge)).toMatch(/exponent of \d+ bits/);
    expect(costlyKeyReason(huge)).toMatch(/exponent/);
    expect(costlyKeyReason(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey)).toBeUndefined();
    expect(keyBoundsViolation(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey)).toMatch(/secp256k1/);
    expect(keyBoundsViolation(generateKeyPairSync('ed448').publicKey)).toMatch(/ed448 keys are not accepted/);
  }, 60_000);
});
