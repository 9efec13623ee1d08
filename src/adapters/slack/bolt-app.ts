import type { App as BoltApp } from '@slack/bolt';
// Bolt's App module itself, not its index: the index also loads the Express receiver (express,
// body-parser, mime-db), which this bot never uses.
import * as appModule from '@slack/bolt/dist/App.js';

type AppClass = typeof BoltApp;

/**
 * The module is CommonJS with `exports.default = App`. Node hands an ES module `module.exports` as
 * the default; esbuild's bundle does too, vitest hands `exports.default`: accept either.
 */
const loaded = appModule.default as unknown as AppClass | { default: AppClass };
export const App: AppClass = 'default' in loaded ? loaded.default : loaded;
