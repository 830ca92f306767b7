// RFC 6238 TOTP as an authenticator app computes it (SHA-1, 6 digits, 30-second steps), with the
// RFC 4648 base32 decoding of the secret an enrolment page shows.

import { createHmac } from 'node:crypto';

export const STEP_SECONDS = 30;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The bytes of a base32 secret (case, spaces and padding ignored). */
export function base32Decode(text) {
  const out = [];
  let bits = 0;
  let value = 0;
  for (const c of text.toUpperCase().replace(/[\s=]/g, '')) {
    const index = BASE32.indexOf(c);
    if (index < 0) throw new Error(`not a base32 character: ${JSON.stringify(c)}`);
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 HOTP of `key` (bytes) at `counter`, `digits` long. */
export function hotp(key, counter, digits = 6) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step of `ms` (milliseconds since the epoch). */
export const stepAt = (ms = Date.now()) => Math.floor(ms / 1000 / STEP_SECONDS);

/** The code for a base32 secret at time step `step`. */
export const totpAt = (secret, step) => hotp(base32Decode(secret), step);
