import type { SilenceApi } from '../../ports/alerting.js';

/** Alertmanager's API v2 silences: `POST /api/v2/silences`, `DELETE /api/v2/silence/{id}`. */
export class AlertmanagerSilences implements SilenceApi {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly timeoutMs = 5_000,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  async create(silence: Parameters<SilenceApi['create']>[0]): Promise<string> {
    const response = await fetch(`${this.base}/api/v2/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ...silence,
        startsAt: silence.startsAt.toISOString(),
        endsAt: silence.endsAt.toISOString(),
      }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = await this.check(response, 'POST /api/v2/silences');
    const id = (JSON.parse(body) as { silenceID?: unknown }).silenceID;
    // Alertmanager's ids are UUIDs; anything else is not shown to people (it ends up in Slack text).
    if (typeof id !== 'string' || !/^[0-9a-f-]{1,64}$/i.test(id))
      throw new Error(`Alertmanager answered without a valid silenceID: ${body.slice(0, 200)}`);
    return id;
  }

  async expire(id: string): Promise<void> {
    const response = await fetch(`${this.base}/api/v2/silence/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await this.check(response, `DELETE /api/v2/silence/${id}`);
  }

  private async check(response: Response, what: string): Promise<string> {
    const text = await response.text();
    if (!response.ok) throw new Error(`Alertmanager ${what}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return text;
  }
}
