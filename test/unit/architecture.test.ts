import { readdirSync, readFileSync, statSync } from 'node:fs';
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
          /^src\/(messages|core|ports)\/|^src\/alerting\/group-record\.js$|^@slack\/types$/,
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
