#!/usr/bin/env node
// The gmr command: a few lines over main(argv). Only this file ends the process (through exitCode).
import { existsSync, statSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
// The esbuild bundle of dist/ (scripts/bundle.mjs, part of `npm run build`): ~30 files to load instead
// of ~200 modules. Skipped when tsc ran after it (a plain `tsc` build), so stale code never runs.
const bundle = new URL('../dist/bundle/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
let prestart;
if (existsSync(compiled)) {
  // Node 22.1+ keeps V8's compiled code of every module in a cache folder: put it in the user's
  // private one (src/mapreduce/job/compile-cache.ts), not the shared temporary folder. Node 20: no such API.
  if (typeof module.enableCompileCache === 'function' && process.env.NODE_COMPILE_CACHE === undefined) {
    const { privateCacheDir } = await import(new URL('../dist/src/mapreduce/job/compile-cache.js', import.meta.url).href);
    const cache = privateCacheDir('v8');
    if (cache.dir !== undefined) module.enableCompileCache(cache.dir);
  }
  const built = statSync(compiled).mtimeMs;
  const bundled = statSync(bundle, { throwIfNoEntry: false })?.mtimeMs ?? -1;
  const useBundle = bundled >= built;
  const dist = useBundle ? '../dist/bundle/prestart-worker.js' : '../dist/src/mapreduce/driver/prestart-worker.js';
  // `gmr run`'s first local worker boots now, beside this process loading the driver (issue 15).
  if (process.argv[2] === 'run') {
    prestart = await import(new URL(dist, import.meta.url).href);
    prestart.prestartWorker(fileURLToPath(import.meta.url), process.argv.slice(2));
  }
  ({ main } = await import((useBundle ? bundle : compiled).href));
} else if (existsSync(source) && existsSync(new URL('../tsconfig.json', import.meta.url))) {
  // A development checkout without a build (`npm run build` makes dist/): run the sources through tsx.
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  // An installed package always ships dist/: without it the installation is broken, say so plainly
  // (exit 69, EX_UNAVAILABLE: a file it needs does not exist).
  process.stderr.write(`gmr: this installation has no compiled code (${compiled.pathname} is missing); reinstall the package\n`);
  main = async () => 69;
}
process.exitCode = await main(process.argv.slice(2));
// A run that ended before its local cluster claimed the prestarted worker (a usage error) ends it.
prestart?.dropPrestartedWorker();
