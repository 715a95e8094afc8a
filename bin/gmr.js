#!/usr/bin/env node
// The gmr command: a few lines over main(argv). Only this file ends the process (through exitCode).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
let main;
if (existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  // A checkout without a build (npm install builds dist/): run the TypeScript source through tsx.
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(new URL('../src/cli/main.ts', import.meta.url).href));
}
process.exitCode = await main(process.argv.slice(2));
