import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((match) => match[1] ?? match[2] ?? '');
}

/** Pure helpers the core may use; nothing that talks to Slack, Kubernetes, the network or the disk. */
const CORE_MAY_IMPORT = new Set(['fastest-levenshtein']);

describe('the hexagon', () => {
  const coreFiles = sourceFiles('src/core');

  it('has a core', () => {
    expect(coreFiles.length).toBeGreaterThan(5);
  });

  it.each(coreFiles.map((file) => [relative('.', file)]))(
    '%s imports only the core and pure helpers',
    (file) => {
      for (const specifier of importsOf(file)) {
        if (specifier.startsWith('.')) {
          const target = join(file, '..', specifier);
          expect(target.startsWith('src/core'), `${file} imports ${specifier} from outside the core`).toBe(
            true,
          );
        } else {
          expect(CORE_MAY_IMPORT.has(specifier), `${file} imports ${specifier}`).toBe(true);
        }
      }
      const text = readFileSync(file, 'utf8');
      expect(text, `${file} reads the clock`).not.toMatch(/Date\.now\(|new Date\(\)/);
      expect(text, `${file} reaches the process`).not.toMatch(/process\.(env|exit|stdout)/);
    },
  );

  it('keeps command modules free of Slack and Kubernetes client libraries', () => {
    for (const file of sourceFiles('commands')) {
      for (const specifier of importsOf(file)) {
        expect(specifier, `${file} imports ${specifier}`).not.toMatch(/^@slack\/|^@kubernetes\//);
      }
    }
  });
});

/** Where an import of `file` lands, relative to the repository (a package name stays as it is). */
function targetOf(file: string, specifier: string): string {
  return specifier.startsWith('.') ? join(file, '..', specifier) : specifier;
}

describe('rendering in one layer', () => {
  /** Block Kit and Slack: the client libraries, the messages layer, the Slack adapters, the old builders. */
  const SLACK = /^@slack\/|^src\/messages\/|^src\/adapters\/|^src\/commanding\/blocks/;
  const BLOCK_KIT = /type:\s*['"](section|mrkdwn|plain_text|header|context|button|actions|divider)['"]/;

  it.each([...sourceFiles('src/services'), ...sourceFiles('src/core')].map((file) => [relative('.', file)]))(
    '%s imports no Block Kit and no Slack, and builds none',
    (file) => {
      for (const specifier of importsOf(file)) {
        expect(targetOf(file, specifier), `${file} imports ${specifier}`).not.toMatch(SLACK);
      }
      expect(readFileSync(file, 'utf8'), `${file} builds Block Kit`).not.toMatch(BLOCK_KIT);
    },
  );

  it.each(sourceFiles('src/messages').map((file) => [relative('.', file)]))(
    '%s imports nothing above the messages layer (core, ports, data types and Slack’s types only)',
    (file) => {
      for (const specifier of importsOf(file)) {
        expect(targetOf(file, specifier), `${file} imports ${specifier}`).toMatch(
          /^src\/(messages|core|ports)\/|^@slack\/types$/,
        );
      }
    },
  );

  it('types the messages layer with Slack’s own Block Kit types', () => {
    const text = sourceFiles('src/messages')
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    expect(text).toMatch(/from '@slack\/types'/);
    expect(text).toContain('KnownBlock');
  });

  it('escapes outside text in one place: no other module escapes for Slack', () => {
    const escapers = [...sourceFiles('src'), ...sourceFiles('commands')].filter(
      (file) =>
        !file.startsWith('src/messages/') &&
        !file.startsWith('src/emulators/') &&
        /replace\(\/&\/g, '&amp;'\)/.test(readFileSync(file, 'utf8')),
    );
    expect(escapers).toEqual([]);
  });
});

describe('one composition root, one Slack client', () => {
  const files = [...sourceFiles('src'), ...sourceFiles('commands')].filter(
    (file) => !file.startsWith('src/emulators/'),
  );

  it('builds the Bolt app (and with it the one Web API client) in src/bot.ts only', () => {
    const apps = files.filter((file) => /new App\(/.test(readFileSync(file, 'utf8')));
    expect(apps.map((file) => relative('.', file))).toEqual(['src/bot.ts']);
  });

  it('builds no other Slack Web API client anywhere', () => {
    const clients = files.filter((file) => /new (webApi\.)?WebClient\(/.test(readFileSync(file, 'utf8')));
    expect(clients).toEqual([]);
  });

  it('keeps the ports the use-cases need in src/ports/, not inside a service', () => {
    for (const file of sourceFiles('src/services')) {
      expect(readFileSync(file, 'utf8'), `${file} declares a port`).not.toMatch(
        /export interface (PrometheusQuery|Chat|Cluster|DocumentStore|FlagStore)\b/,
      );
    }
  });
});

/** Relative imports (type-only ones too) resolved to repository paths, `.js` specifiers to `.ts` files. */
function localImports(file: string): string[] {
  return importsOf(file)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => join(file, '..', specifier).replace(/\.js$/, '.ts'));
}

/** Strongly connected components of more than one file (Tarjan), each sorted. */
function importLoops(files: string[]): string[][] {
  const graph = new Map(
    files.map((file) => [file, localImports(file).filter((target) => files.includes(target))]),
  );
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const loops: string[][] = [];
  let counter = 0;
  const visit = (file: string) => {
    index.set(file, counter);
    low.set(file, counter++);
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1) loops.push(component.sort());
    }
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return loops;
}

describe('the import graph', () => {
  const files = [...sourceFiles('src'), ...sourceFiles('commands')].map((file) => relative('.', file));

  it('finds a loop where there is one (the check can fail)', () => {
    const fixture = mkdtempSync(join(tmpdir(), 'loops-'));
    writeFileSync(join(fixture, 'a.ts'), "import { b } from './b.js';\nexport const a = b;\n");
    writeFileSync(
      join(fixture, 'b.ts'),
      "import type { A } from './a.js';\nexport const b = 1 as unknown as A;\n",
    );
    writeFileSync(join(fixture, 'c.ts'), "import { a } from './a.js';\nexport const c = a;\n");
    expect(importLoops(sourceFiles(fixture))).toEqual([[join(fixture, 'a.ts'), join(fixture, 'b.ts')]]);
  });

  it('has no import loops over src/ and commands/ (type-only imports included)', () => {
    expect(importLoops(files)).toEqual([]);
  });
});

/**
 * The permission / error / metrics guard of Slack interactions lives in the router alone: a
 * second copy is how button permissions drifted from the commands they stand for.
 */
describe('the interaction guard', () => {
  const ROUTER = 'src/interactions/router.ts';
  const files = [...sourceFiles('src'), ...sourceFiles('commands')].map((file) => relative('.', file));
  /** Domain rules that consult access themselves: the approval quorum (the requester never counts). */
  const DOMAIN_ACCESS_RULES = new Set(['src/services/phase-service.ts']);
  /** Where Slack requests are handled: each of these calls belongs to the router alone. */
  const SLACK_LAYERS = /^(src\/adapters\/slack|src\/interactions|src\/commanding|commands)\//;
  const GUARD_CALLS: [string, RegExp, (file: string) => boolean][] = [
    [
      'the permission check',
      /access\.check\(/,
      (file) => !DOMAIN_ACCESS_RULES.has(file) && file !== 'src/services/access.ts',
    ],
    [
      'the error-reference policy',
      /randomUUID\(\)\.slice\(0, 8\)|went wrong on my side|did not work \(reference/,
      (file) => SLACK_LAYERS.test(file),
    ],
    ['the interaction metrics', /metrics\.commands\.inc\(|commandDuration\.observe\(/, () => true],
  ];

  it.each(GUARD_CALLS)('%s appears only in the router', (_what, pattern, inScope) => {
    const found = files.filter((file) => inScope(file) && pattern.test(readFileSync(file, 'utf8')));
    expect(found).toEqual([ROUTER]);
  });

  it('has no way around it: nothing outside the router runs a subcommand from command text', () => {
    const found = files.filter((file) => /\banswerAs\b|resolveCommand\(/.test(readFileSync(file, 'utf8')));
    expect(found.filter((file) => file !== ROUTER && file !== 'src/commanding/dispatch.ts')).toEqual([]);
  });
});
