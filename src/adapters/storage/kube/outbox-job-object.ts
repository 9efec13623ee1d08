import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { OutboxJob } from '../../slack/outbox-journal.js';
import type { StateObject } from './state-objects.js';

/**
 * How one outbox job is kept in the API server: a ConfigMap named after the job's id, labelled with
 * its queue and state, holding the job, its enqueue sequence and, once finished, the done record.
 */
export const OUTBOX_JOB_KIND = 'outbox-job';
/** Which queue a job belongs to. */
export const OUTBOX_LABEL = 'switchyard.io/outbox';
/** `pending` until a replica finished it, then `done`. */
export const JOB_STATE_LABEL = 'switchyard.io/state';
export type OutboxQueue = 'slack' | 'notify';
/** How long a finished job is kept: replicas awaiting its result read it, and its fencing key counts. */
export const DEFAULT_OUTBOX_RETENTION_MS = 10 * 60_000;
/** A result bigger than this is not kept (whoever awaits it gets undefined): the object stays small. */
export const MAX_RESULT_BYTES = 64 * 1024;

export const JOB_KEY = 'job.json';
export const DONE_KEY = 'done.json';
/** Enqueue order across replicas: `<ms since epoch>-<counter>`, zero-padded so it sorts as text. */
export const SEQ_KEY = 'seq';

/** `switchyard-outbox-<queue>-<32 hex of sha256(id)>`: a valid name for any job id. */
export function outboxJobName(queue: OutboxQueue, id: string): string {
  return `switchyard-outbox-${queue}-${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
}

export interface DoneRecord {
  at: string;
  /** The job's id, so a record made before the job's own data was written still names it. */
  id?: string;
  dropped?: string;
  result?: unknown;
}

/** Another replica dropped the job (Slack refused it, say): whoever awaited it is told why. */
export class OutboxJobDropped extends Error {
  constructor(
    readonly jobId: string,
    readonly reason: string,
  ) {
    super(`outbox job ${jobId} was dropped: ${reason}`);
    this.name = 'OutboxJobDropped';
  }
}

const jobSchema = z.looseObject({
  id: z.string().min(1),
  key: z.string(),
  priority: z.number(),
  coalesce: z.string().optional(),
  fence: z.string().optional(),
  payload: z.looseObject({}),
});
const doneSchema = z.looseObject({
  at: z.string(),
  id: z.string().optional(),
  dropped: z.string().optional(),
  result: z.unknown().optional(),
});

export interface JobObject<P> {
  id: string;
  job?: OutboxJob<P>;
  seq: string;
  done?: DoneRecord;
}

/** The object's job and done record; throws on one that holds neither, or holds them damaged. */
export function parseJobObject<P>(object: StateObject): JobObject<P> {
  const jobText = object.data[JOB_KEY];
  const doneText = object.data[DONE_KEY];
  const job = jobText ? (jobSchema.parse(JSON.parse(jobText)) as OutboxJob<P>) : undefined;
  const done = doneText ? (doneSchema.parse(JSON.parse(doneText)) as DoneRecord) : undefined;
  if (!job && !done) throw new Error('neither a job nor a done record');
  return {
    id: job?.id ?? done?.id ?? object.name,
    seq: object.data[SEQ_KEY] ?? '',
    ...(job && { job }),
    ...(done && { done }),
  };
}

/** Enqueue order: by sequence, then id. */
export function bySequence(a: { seq: string; id: string }, b: { seq: string; id: string }): number {
  return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
