// What an authenticator app computes, written from RFC 6238 / RFC 4226 with node:crypto only (no
// code shared with the server): HMAC-SHA1 over the 30-second step counter, dynamic truncation, six
// digits. `totp.test.mjs` checks it against the RFCs' test vectors.
//
//   totpCode('JBSWY3DPEHPK3PXP', totpStep())      // the code shown now
//   totpCode(secret, totpStep() + 1)              // the next one (the server accepts ±1 step)

import { createHmac } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const TOTP_PERIOD = 30;

/** RFC 4648 base32 (no padding needed, case-insensitive, spaces ignored) to bytes. */
export function base32Decode(text) {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of clean) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${JSON.stringify(c)} in ${JSON.stringify(text)}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The 30-second step a time (ms since the epoch) falls in. */
export function totpStep(ms = Date.now()) {
  return Math.floor(ms / 1000 / TOTP_PERIOD);
}

/** RFC 4226 HOTP with `digits` digits for `counter`, keyed by the raw `key` bytes. */
export function hotp(key, counter, digits = 6) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The six-digit code of the base32 `secret` for time step `step`. */
export function totpCode(secret, step) {
  return hotp(base32Decode(secret), step);
}
