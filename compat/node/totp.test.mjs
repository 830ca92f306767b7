// The suite's TOTP (totp.mjs) against the test vectors of RFC 4226 (Appendix D) and RFC 6238
// (Appendix B, SHA-1), so a refused code in sdk.test.mjs is the server's fault, not the suite's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base32Decode, hotp, totpCode, totpStep } from './totp.mjs';

const SEED = Buffer.from('12345678901234567890', 'ascii');
// The same 20 bytes in base32, as an authenticator app would be given them.
const SEED_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

test('base32 decodes the RFC seed', () => {
  assert.deepEqual(base32Decode(SEED_BASE32), SEED);
  assert.deepEqual(base32Decode('gezdgnbvgy3tqojq gezdgnbvgy3tqojq'), SEED);
  assert.throws(() => base32Decode('GEZ1'), /not base32/);
});

test('HOTP matches RFC 4226 Appendix D', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  expected.forEach((code, counter) => assert.equal(hotp(SEED, counter), code, `counter ${counter}`));
});

test('TOTP (SHA-1, 30 s) matches RFC 6238 Appendix B', () => {
  for (const [seconds, eight] of [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ]) {
    const step = totpStep(seconds * 1000);
    assert.equal(hotp(SEED, step, 8), eight, `T=${seconds}`);
    assert.equal(totpCode(SEED_BASE32, step), eight.slice(2), `T=${seconds}, six digits`);
  }
});
