#!/usr/bin/env node
// Builds what `npm start` runs: one bundled ES module per entry point (dist/src/main.js, dist/src/cli.js)
// plus the chunks they share or load lazily (dist/chunks/),
// made by esbuild from the TypeScript sources in about a second. Type checking is `npm run typecheck`.
// One file instead of hundreds of modules is also what makes start-up fast: @kubernetes/client-node
// alone loads in 1.4 s as separate files, 0.4 s bundled.
//
//   node scripts/build.mjs             build now
//   node scripts/build.mjs --if-stale  build only when a source is newer than the last build (npm start)
//
// Runs as `prepare`, so `npm ci` builds once; with no sources yet (the Dockerfile's `npm ci` runs
// before the sources are copied) it does nothing, and the Dockerfile's `npm run build` builds.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.build-stamp');
const entryPoints = ['src/main.ts', 'src/cli.ts'];
/** Everything whose change changes the build. */
const inputs = ['src', 'commands', 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build.mjs'];

function newestInput() {
  let newest = 0;
  const visit = (path) => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else if (stat.mtimeMs > newest) newest = stat.mtimeMs;
  };
  for (const input of inputs) visit(join(root, input));
  return newest;
}

function isStale() {
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  return newestInput() > built || entryPoints.some((entry) => !existsSync(join(root, outputOf(entry))));
}

/** src/main.ts → dist/src/main.js, where `tsc -p tsconfig.build.json` puts it too (the Dockerfile runs it). */
function outputOf(entry) {
  return join('dist', entry.replace(/\.ts$/, '.js'));
}

/** Two builds at once (tests start several bots) never leave a half-written file behind. */
function writeAtomically(path, contents) {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

async function build() {
  const started = Date.now();
  const esbuild = await import('esbuild');
  const shared = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    // Some dependencies are CommonJS and call require(): give the ES module one.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    // Only the sandbox page's development fallback uses it; the build inlines the page instead.
    external: ['esbuild'],
  };
  const client = await esbuild.build({
    entryPoints: [join(root, 'src/sandbox/client/main.ts')],
    bundle: true,
    format: 'iife',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'warning',
  });
  const clientScript = client.outputFiles[0].text;
  // Both entry points in one build with code splitting: a module that is only ever imported with
  // import() (the Kubernetes client, loaded when a cluster is configured) lands in a chunk of its
  // own, read from disk only when it is needed; what both entries share goes in shared chunks.
  const result = await esbuild.build({
    ...shared,
    entryPoints: entryPoints.map((entry) => join(root, entry)),
    outdir: join(root, 'dist'),
    outbase: root,
    splitting: true,
    entryNames: '[dir]/[name]',
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
    write: false,
    define: { __SANDBOX_CLIENT__: JSON.stringify(clientScript) },
  });
  for (const file of result.outputFiles) writeAtomically(file.path, file.contents);
  // Which chunk holds which source, for the test that checks what a start loads.
  writeAtomically(join(root, 'dist', 'meta.json'), JSON.stringify(result.metafile));
  removeOldChunks(new Set(result.outputFiles.map((file) => file.path)));
  writeAtomically(stamp, `${new Date().toISOString()}\n`);
  return Date.now() - started;
}

/** Chunks of earlier builds; a running bot has read its own at start, so removing them is safe. */
function removeOldChunks(current) {
  const chunks = join(root, 'dist', 'chunks');
  if (!existsSync(chunks)) return;
  for (const name of readdirSync(chunks)) {
    const path = join(chunks, name);
    if (!current.has(path)) rmSync(path, { force: true });
  }
}

async function esbuildInstalled() {
  try {
    await import('esbuild');
    return true;
  } catch {
    return false;
  }
}

const ifStale = process.argv.includes('--if-stale');
if (!existsSync(join(root, 'src', 'main.ts'))) {
  // `npm ci` in the Dockerfile runs before the sources are there; its `npm run build` comes later.
  process.exit(0);
}
if (ifStale && !isStale()) process.exit(0);
if (ifStale && existsSync(join(root, outputOf(entryPoints[0]))) && !(await esbuildInstalled())) {
  // A production install (`npm prune --omit=dev`) has no esbuild: the build it has is the one to run.
  process.stderr.write('switchyard: esbuild is not installed; running the existing build in dist/\n');
  process.exit(0);
}
try {
  const ms = await build();
  process.stderr.write(`switchyard: built dist/ in ${(ms / 1000).toFixed(1)} s\n`);
} catch (error) {
  process.stderr.write(`switchyard: build failed: ${error.message ?? error}\n`);
  process.exit(1);
}
