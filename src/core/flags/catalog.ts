/**
 * The seed's `MessagingFeatureFlags`: 22 flags in seven groups. Each flag is known by its key
 * (`adaptive_timing`), its env var (`MESSAGING_ADAPTIVE_TIMING`, also the ConfigMap key) and its
 * class attribute in the seed (`ADAPTIVE_TIMING_ENABLED`).
 */
export const FLAG_GROUPS = [
  'timing',
  'retry',
  'validation',
  'ordering',
  'parallel',
  'observability',
  'safety',
] as const;
export type FlagGroup = (typeof FLAG_GROUPS)[number];

export interface FlagDefinition {
  key: string;
  envVar: string;
  attribute: string;
  group: FlagGroup;
  defaultEnabled: boolean;
  description: string;
  /** Flags that must be on for this one to be on. */
  requires: readonly string[];
  /** Flags that may not be on at the same time as this one. */
  conflictsWith: readonly string[];
  /** Turning it off needs an operator's explicit confirmation. */
  safety: boolean;
}

type Spec = [
  key: string,
  group: FlagGroup,
  defaultEnabled: boolean,
  description: string,
  extra?: Partial<FlagDefinition>,
];

const SPECS: Spec[] = [
  ['adaptive_timing', 'timing', false, 'Adaptive timing engine for message delivery'],
  [
    'timing_calibration',
    'timing',
    false,
    'Calibrates the adaptive timing engine',
    { requires: ['adaptive_timing'] },
  ],
  ['timing_fallback', 'timing', true, 'Falls back to fixed timing when adaptive timing misbehaves'],
  ['retry_logic', 'retry', false, 'Retries failed deliveries'],
  [
    'exponential_backoff',
    'retry',
    false,
    'Exponential backoff between retries',
    { requires: ['retry_logic'] },
  ],
  [
    'error_classification',
    'retry',
    false,
    'Classifies errors as transient or permanent before retrying',
    { requires: ['retry_logic'] },
  ],
  ['flag_validation', 'validation', false, 'Validates message flags before delivery'],
  [
    'priority_override',
    'validation',
    false,
    'Lets validated flags override message priority',
    { requires: ['flag_validation'] },
  ],
  [
    'mutex_validation',
    'validation',
    false,
    'Rejects mutually exclusive message flags',
    { requires: ['flag_validation'] },
  ],
  ['intelligent_ordering', 'ordering', false, 'Orders agents by priority and load'],
  [
    'urgent_first',
    'ordering',
    false,
    'Delivers urgent messages first',
    { requires: ['intelligent_ordering'], conflictsWith: ['custom_ordering'] },
  ],
  [
    'custom_ordering',
    'ordering',
    false,
    'Custom agent ordering rules',
    { requires: ['intelligent_ordering'], conflictsWith: ['urgent_first'] },
  ],
  [
    'parallel_delivery',
    'parallel',
    false,
    'Delivers to many agents in parallel',
    { requires: ['concurrency_control'] },
  ],
  ['concurrency_control', 'parallel', true, 'Bounds concurrent deliveries'],
  [
    'resource_pooling',
    'parallel',
    false,
    'Pools connections for parallel delivery',
    { requires: ['parallel_delivery'] },
  ],
  ['metrics_collection', 'observability', true, 'Collects delivery metrics'],
  ['logging_enhanced', 'observability', true, 'Structured logs with correlation ids'],
  ['dashboard', 'observability', true, 'Messaging dashboard'],
  ['alerting', 'observability', true, 'Alerting rules and notifications'],
  ['pre_flight_checks', 'safety', true, 'Checks before each delivery', { safety: true }],
  ['health_checks', 'safety', true, 'Health check endpoints', { safety: true }],
  ['circuit_breaker', 'safety', true, 'Stops calling a failing dependency', { safety: true }],
];

export const SEED_FLAGS: readonly FlagDefinition[] = SPECS.map(
  ([key, group, defaultEnabled, description, extra]) => ({
    key,
    envVar: `MESSAGING_${key.toUpperCase()}`,
    attribute: `${key.toUpperCase()}_ENABLED`,
    group,
    defaultEnabled,
    description,
    requires: extra?.requires ?? [],
    conflictsWith: extra?.conflictsWith ?? [],
    safety: extra?.safety ?? false,
  }),
);

/** A catalog indexed by key, with the order of the seed kept for display. */
export class FlagCatalog {
  readonly flags: readonly FlagDefinition[];
  private readonly byKey: Map<string, FlagDefinition>;

  constructor(flags: readonly FlagDefinition[] = SEED_FLAGS) {
    this.flags = flags;
    this.byKey = new Map(flags.map((flag) => [flag.key, flag]));
    for (const flag of flags) {
      for (const other of [...flag.requires, ...flag.conflictsWith]) {
        if (!this.byKey.has(other)) throw new Error(`flag ${flag.key} refers to unknown flag ${other}`);
      }
    }
  }

  get(key: string): FlagDefinition | undefined {
    return this.byKey.get(key);
  }

  require(key: string): FlagDefinition {
    const flag = this.byKey.get(key);
    if (!flag) throw new Error(`unknown flag ${key}`);
    return flag;
  }

  inGroup(group: FlagGroup): FlagDefinition[] {
    return this.flags.filter((flag) => flag.group === group);
  }

  defaults(): FlagValues {
    return Object.fromEntries(this.flags.map((flag) => [flag.key, flag.defaultEnabled]));
  }

  /** Flags that are on only because something else requires them: those that depend on `key`. */
  dependentsOf(key: string): FlagDefinition[] {
    return this.flags.filter((flag) => flag.requires.includes(key));
  }
}

export type FlagValues = Record<string, boolean>;
