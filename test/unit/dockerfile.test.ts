import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * No Docker engine runs here, so the image is checked by reading the Dockerfile: its stages, the user
 * it runs as, its health check, and that its CMD names the file `npm run build` actually produces.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions in order: line continuations joined, comments and parser directives dropped. */
function instructions(dockerfile: string): Instruction[] {
  return dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
      return { keyword: keyword.toUpperCase(), args: args.trim() };
    });
}

/** The instructions of each stage, split at FROM. */
function stages(all: Instruction[]): Instruction[][] {
  const result: Instruction[][] = [];
  for (const instruction of all) {
    if (instruction.keyword === 'FROM') result.push([]);
    result.at(-1)?.push(instruction);
  }
  return result;
}

const all = instructions(read('Dockerfile'));
const [build = [], runtime = []] = stages(all);
const find = (stage: Instruction[], keyword: string) => stage.filter((i) => i.keyword === keyword);
const runs = (stage: Instruction[]) => find(stage, 'RUN').map((i) => i.args);

/** Where `tsc -p tsconfig.build.json` writes the JavaScript for src/main.ts, relative to the repo. */
function builtMainPath(): string {
  const config = ts.getParsedCommandLineOfConfigFile(
    resolve(root, 'tsconfig.build.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('tsconfig.build.json could not be read');
  expect(config.options.noEmit, 'tsconfig.build.json must emit').not.toBe(true);
  expect(config.options.outDir, 'tsconfig.build.json: outDir').toBeTruthy();
  const main = resolve(root, 'src/main.ts');
  expect(config.fileNames, 'tsconfig.build.json does not compile src/main.ts').toContain(main);
  const js = ts.getOutputFileNames(config, main, false).find((file) => file.endsWith('.js'));
  if (!js) throw new Error('tsconfig.build.json emits no JavaScript for src/main.ts');
  return relative(root, js).split('\\').join('/');
}

describe('Dockerfile', () => {
  it('has two stages, both on a Node LTS image', () => {
    const froms = find(all, 'FROM').map((i) => i.args);
    expect(froms).toHaveLength(2);
    for (const from of froms) {
      const major = Number(/^node:(\d+)(?:[-.]|\s|$)/.exec(from)?.[1]);
      expect(major, from).toBeGreaterThanOrEqual(20);
      expect(major % 2, `${from}: odd Node majors are not LTS`).toBe(0);
    }
    expect(froms[0]).toMatch(/\sAS\s+build$/i);
  });

  it('builds with the lockfile, compiles, then drops the dev dependencies', () => {
    const commands = runs(build).join(' && ');
    expect(commands).toMatch(/\bnpm ci\b/);
    expect(commands).toMatch(/\bnpm run build\b/);
    expect(commands).toMatch(/\bnpm prune --omit=dev\b/);
    expect(commands.indexOf('npm run build')).toBeLessThan(commands.indexOf('npm prune'));
  });

  it('copies the files `npm ci` (prepare) and `npm run build` run before the RUN that needs them', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const [script, trigger] of [
      ['prepare', /\bnpm ci\b/],
      ['build', /\bnpm run build\b/],
    ] as const) {
      const files = [...(scripts[script] ?? '').matchAll(/\bnode\s+(\S+)/g)].map((m) => m[1]!);
      expect(files.length, `package.json "${script}" runs a script file`).toBeGreaterThan(0);
      const runIndex = build.findIndex((i) => i.keyword === 'RUN' && trigger.test(i.args));
      expect(runIndex, `${trigger}`).toBeGreaterThan(0);
      const copiedBefore = build
        .slice(0, runIndex)
        .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='))
        .flatMap((i) =>
          i.args
            .split(/\s+/)
            .slice(0, -1)
            .map((source) => source.replace(/^\.\//, '')),
        );
      for (const file of files) {
        expect(
          copiedBefore.some((source) => file === source || file.startsWith(`${source}/`)),
          `${file} (run by "${script}") is copied before ${trigger}`,
        ).toBe(true);
      }
    }
  });

  it('ships only dist/, production node_modules and package.json in the runtime stage', () => {
    const copies = find(runtime, 'COPY').map((i) => i.args);
    expect(copies.every((args) => args.startsWith('--from=build '))).toBe(true);
    const sources = copies.map((args) => args.split(/\s+/)[1]?.replace(/^\/app\//, ''));
    expect(sources.sort()).toEqual(['dist', 'node_modules', 'package.json']);
  });

  it('sets the production environment and owns the state dir by the non-root user', () => {
    const env = find(runtime, 'ENV')
      .map((i) => i.args)
      .join(' ');
    expect(env).toContain('NODE_ENV=production');
    expect(env).toContain('STATE_DIR=/var/lib/switchyard');
    expect(env).toContain('PORT=3000');
    expect(runs(runtime).join(' ')).toMatch(/chown\s+node(:node)?\s+\/var\/lib\/switchyard/);
    expect(find(runtime, 'EXPOSE').map((i) => i.args)).toEqual(['3000']);
  });

  it('runs as a non-root user, set before CMD and never switched back', () => {
    const users = runtime.filter((i) => i.keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    for (const user of users) expect(user.args).not.toMatch(/^(root|0)(:|$)/);
    const lastUser = runtime.lastIndexOf(users.at(-1)!);
    const cmd = runtime.findIndex((i) => i.keyword === 'CMD');
    expect(cmd).toBeGreaterThan(lastUser);
  });

  it('checks health with node itself against /healthz', () => {
    const [healthcheck] = find(runtime, 'HEALTHCHECK');
    expect(healthcheck?.args).toMatch(/\bCMD\s+\[\s*"node"/);
    expect(healthcheck?.args).toContain('/healthz');
    expect(healthcheck?.args).not.toMatch(/\b(curl|wget)\b/);
  });

  it('starts the file that `npm run build` emits for src/main.ts, and stops on SIGTERM', () => {
    const [cmd] = find(runtime, 'CMD');
    const argv = JSON.parse(cmd?.args ?? 'null') as unknown;
    expect(argv).toEqual(['node', builtMainPath()]);
    expect(builtMainPath()).toBe('dist/src/main.js');
    expect(find(runtime, 'STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
  });
});

describe('.dockerignore', () => {
  const ignored = read('.dockerignore')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  it('keeps node_modules, data and .git out of the build context', () => {
    for (const entry of ['node_modules', 'data', '.git']) expect(ignored).toContain(entry);
  });

  it('does not exclude anything the build stage copies from the context', () => {
    const fromContext = find(build, 'COPY')
      .filter((i) => !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(fromContext.length).toBeGreaterThan(0);
    for (const source of fromContext) expect(ignored, source).not.toContain(source.replace(/^\.\//, ''));
  });
});
