import { appendFileSync } from 'node:fs';

const trace = process.env.SWITCHYARD_MODULE_TRACE;

export async function load(url, context, nextLoad) {
  if (trace) appendFileSync(trace, `${url}\n`);
  return nextLoad(url, context);
}
