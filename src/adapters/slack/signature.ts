import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = { ok: true } | { ok: false; why: string };

/**
 * Slack's v0 request signature. Unlike Bolt, a timestamp too far in the future is refused as
 * well as a stale one: either way the request could be a replay.
 */
export function verifySlackSignature(input: {
  signingSecret: string;
  timestampHeader: string | undefined;
  signatureHeader: string | undefined;
  rawBody: string;
  nowSeconds: number;
  maxSkewSeconds?: number;
}): SignatureCheck {
  const maxSkew = input.maxSkewSeconds ?? 300;
  if (!input.timestampHeader || !input.signatureHeader)
    return { ok: false, why: 'missing signature headers' };
  const timestamp = Number(input.timestampHeader);
  if (!Number.isInteger(timestamp)) return { ok: false, why: 'malformed timestamp' };
  if (Math.abs(input.nowSeconds - timestamp) > maxSkew)
    return { ok: false, why: 'timestamp outside the 5-minute window' };
  const expected = `v0=${createHmac('sha256', input.signingSecret).update(`v0:${timestamp}:${input.rawBody}`).digest('hex')}`;
  const given = Buffer.from(input.signatureHeader);
  const wanted = Buffer.from(expected);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted))
    return { ok: false, why: 'signature mismatch' };
  return { ok: true };
}
