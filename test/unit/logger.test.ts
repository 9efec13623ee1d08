import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, log: createLogger('debug', stream) };
}

describe('logging', () => {
  it('redacts tokens, secrets and authorization headers wherever they appear', () => {
    const { lines, log } = capture();
    log.info(
      { token: 'xoxb-very-secret', config: { botToken: 'xoxb-2', signingSecret: 'sig', appToken: 'xapp-3' } },
      'starting',
    );
    log.info(
      { req: { headers: { authorization: 'Bearer api-secret', 'x-slack-signature': 'v0=abc' } } },
      'request',
    );
    log.info({ headers: { authorization: 'Bearer other' } }, 'outbound');
    const text = lines.join('');
    for (const secret of [
      'xoxb-very-secret',
      'xoxb-2',
      'sig"',
      'xapp-3',
      'api-secret',
      'v0=abc',
      'Bearer other',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[redacted]');
    expect(JSON.parse(lines[0]!).msg).toBe('starting');
  });
});
