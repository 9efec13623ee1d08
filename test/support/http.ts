/** Small fetch helpers for tests: JSON in, status and parsed body out. */
export async function getJson(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function sendJson(
  method: string,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

export function textOf(message: { text?: string; blocks?: unknown[] } | undefined): string {
  if (!message) return '';
  return `${message.text ?? ''}\n${JSON.stringify(message.blocks ?? [])}`;
}

/**
 * Polls until `check` stops throwing, and returns its value: waits for an event the test cannot
 * subscribe to. `timeoutMs` only bounds a hang (it fails the test with the last error), so it is
 * generous: a starved machine makes events late, never wrong.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
  stepMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await check();
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  throw lastError;
}
