import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SANDBOX_CSS } from './style.js';

/**
 * The page's script is TypeScript (src/sandbox/client/) bundled at build time by scripts/build.mjs,
 * which inlines it here through `define`. Run from the sources (tsx, tests), it is bundled once on
 * first use with the same esbuild, a development dependency.
 */
declare const __SANDBOX_CLIENT__: string | undefined;

let script: Promise<string> | undefined;

function clientScript(): Promise<string> {
  if (typeof __SANDBOX_CLIENT__ === 'string') return Promise.resolve(__SANDBOX_CLIENT__);
  script ??= (async () => {
    const esbuild = await import('esbuild');
    const entry = join(dirname(fileURLToPath(import.meta.url)), 'client', 'main.ts');
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      format: 'iife',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  })();
  return script;
}

export async function sandboxPage(): Promise<string> {
  // `</script` cannot appear inside the inline script; the bundle never contains it, but be sure.
  const js = (await clientScript()).replace(/<\/script/gi, '<\\/script');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard sandbox</title>
<style>${SANDBOX_CSS}</style>
</head>
<body>
<div id="app" data-state="loading">Loading the sandbox…</div>
<script>${js}</script>
</body>
</html>`;
}
