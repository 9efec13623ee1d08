// Preloaded with `node --import ./test/support/module-trace.mjs`: appends the URL of every module the
// process loads to the file named by SWITCHYARD_MODULE_TRACE, so a test can see what a start loaded.
import { register } from 'node:module';

register('./module-trace-hooks.mjs', import.meta.url);
