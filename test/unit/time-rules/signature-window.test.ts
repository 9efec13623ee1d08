/** Slack's request signature window: 300 s either way of the bot's clock, and not a second more. */
import { describe, expect, it } from 'vitest';
import { verifySlackSignature } from '../../../src/adapters/slack/signature.js';
import { signSlackRequest } from '../../../src/emulators/slack/signed-client.js';

const SECRET = 'unit-signing-secret';
const NOW = 1_800_000_000;
const BODY = 'command=%2Fflags&text=list';

function checkAt(timestamp: number) {
  return verifySlackSignature({
    signingSecret: SECRET,
    timestampHeader: String(timestamp),
    signatureHeader: signSlackRequest(SECRET, timestamp, BODY),
    rawBody: BODY,
    nowSeconds: NOW,
  });
}

describe('the signature window', () => {
  it('accepts a timestamp exactly 300 s old or 300 s ahead', () => {
    expect(checkAt(NOW - 300)).toEqual({ ok: true });
    expect(checkAt(NOW + 300)).toEqual({ ok: true });
    expect(checkAt(NOW)).toEqual({ ok: true });
  });

  it('refuses a timestamp 301 s old (a replay) or 301 s ahead (Bolt would let that through)', () => {
    expect(checkAt(NOW - 301)).toEqual({ ok: false, why: 'timestamp outside the 5-minute window' });
    expect(checkAt(NOW + 301)).toEqual({ ok: false, why: 'timestamp outside the 5-minute window' });
  });

  it('refuses anything further out, however well signed', () => {
    for (const skew of [399, 400, 3_600, 86_400]) {
      expect(checkAt(NOW - skew).ok).toBe(false);
      expect(checkAt(NOW + skew).ok).toBe(false);
    }
  });
});
