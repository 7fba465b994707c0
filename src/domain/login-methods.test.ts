import { describe, it, expect } from 'vitest';
import { noLoginMethodReason } from './login-methods.js';

describe('noLoginMethodReason', () => {
  it.each([
    [true, false],
    [true, true],
    [false, true],
  ])('leaves a way in with Basic %s and certificates %s', (basic, mtls) => {
    expect(noLoginMethodReason({ control_plane_basic_authentication: basic, mtls_certificate_authentication: mtls })).toBeUndefined();
  });

  it('says why when Basic and certificate authentication are both off', () => {
    expect(noLoginMethodReason({ control_plane_basic_authentication: false, mtls_certificate_authentication: false })).toContain(
      'cannot both be off',
    );
  });
});
