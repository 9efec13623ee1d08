import type { Logger } from '../logger.js';

/** What this replica is, for `/readyz` and the metrics. */
export interface Role {
  role: 'single' | 'leader' | 'follower';
  holder?: string;
  transitions?: number;
}

/** Work only the leader does: started when this replica comes to lead, stopped when it stops. */
export interface LeaderTask {
  name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/** The election as the wiring sees it (a LeaderElector, or nothing in single-replica mode). */
export interface Election {
  readonly leading: boolean;
  readonly holder: string | undefined;
  readonly transitions: number;
  start(events: { started(term: { holder: string; transitions: number }): void; stopped(): void }): void;
  stop(): Promise<void>;
}

/**
 * Runs the leader's tasks on this replica while it leads. With no election (the file backend, one
 * replica) it always leads. Starts and stops are run one at a time, in order, so a quick loss and
 * regain of the Lease never leaves a task started twice.
 */
export class Leadership {
  private readonly tasks: LeaderTask[] = [];
  private running = false;
  /** Every task has started (a new leader has taken the queue over and recovered): timed work may run. */
  private ready = false;
  private queue: Promise<void> = Promise.resolve();
  private term: { holder: string; transitions: number } | undefined;

  constructor(
    private readonly log: Logger,
    private readonly election?: Election,
    private readonly observe?: (leading: boolean, transitions: number) => void,
  ) {}

  /**
   * Whether timed work (escalation ticks, sweeps, the drift check) may run here: the Lease is held and
   * the leader's start tasks are done, so a tier is never judged before the queue the last leader left
   * was read (its fencing keys tell which tiers went out already).
   */
  get leading(): boolean {
    return this.election ? this.ready && this.election.leading : true;
  }

  role(): Role {
    if (!this.election) return { role: 'single' };
    return {
      role: this.election.leading ? 'leader' : 'follower',
      ...(this.election.holder && { holder: this.election.holder }),
      transitions: this.election.transitions,
    };
  }

  /** Registers a task; registered after `start`, it starts at once if this replica leads. */
  add(task: LeaderTask): void {
    this.tasks.push(task);
    if (this.running) this.serially(() => this.startTask(task));
  }

  start(): void {
    if (!this.election) {
      this.serially(() => this.startAll());
      return;
    }
    this.election.start({
      started: (term) => {
        this.term = term;
        this.log.info(term, 'leader election: this replica leads');
        this.observe?.(true, term.transitions);
        this.serially(() => this.startAll());
      },
      stopped: () => {
        this.log.warn(this.term ?? {}, 'leader election: this replica no longer leads');
        this.observe?.(false, this.election?.transitions ?? 0);
        this.serially(() => this.stopAll());
      },
    });
  }

  /** Stops the tasks, then the election (which releases the Lease when leading). */
  async stop(): Promise<void> {
    this.serially(() => this.stopAll());
    await this.queue;
    await this.election?.stop();
  }

  /** Resolves once pending starts and stops are done (tests). */
  settled(): Promise<void> {
    return this.queue;
  }

  private serially(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((error: unknown) => {
      this.log.error({ err: error }, 'leader tasks: a start or stop failed');
    });
  }

  private async startAll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    for (const task of this.tasks) await this.startTask(task);
    this.ready = true;
  }

  private async startTask(task: LeaderTask): Promise<void> {
    try {
      await task.start();
    } catch (error) {
      this.log.error({ err: error, task: task.name }, 'leader task did not start');
    }
  }

  private async stopAll(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.ready = false;
    for (const task of [...this.tasks].reverse()) {
      try {
        await task.stop();
      } catch (error) {
        this.log.error({ err: error, task: task.name }, 'leader task did not stop cleanly');
      }
    }
  }
}
