// Bundles tsc's dist/ into dist/bundle/ (esbuild, split into shared chunks): a gmr process then loads ~30 files, not ~200 modules.
// Entries: the CLI (bin/gmr.js loads dist/bundle/cli/main.js), the package's two `exports` and the
// built-in jobs. A job's `import { defineJob } from 'gmr'` is bound here to the very modules that
// export those names (the chunks the CLI holds too: one instance of every module in a process),
// not to the whole public entry, which would make a worker load the job server and the client.
// Commands and other lazy `import()`s stay separate chunks, so a worker does not parse the driver.
// Dependencies stay in node_modules. The layout the running code expects: src/mapreduce/job/package-root.ts.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
/**
 * What a job module uses of 'gmr' (defineJob, step, compareNatural, the errors), as its own entry,
 * dist/bundle/job-api.js: a user module that imports nothing else gets it from there
 * (module-bundle.ts), so a worker does not load the job server, the client and the driver for it.
 */
const JOB_API = ['./errors.js', './mapreduce/job/define-job.js', './mapreduce/shuffle/key-order.js'];
const entry = (specifier) => path.join(root, 'dist/src', specifier === 'gmr' ? '' : 'protocol', 'index.js');

/** An entry's re-exports, `export { a as b } from './x.js'` (all tsc leaves of src/index.ts): name → that statement, absolute. */
function reExports(file) {
  const statements = new Map();
  for (const [, list, from] of readFileSync(file, 'utf8').matchAll(/export\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
    for (const spec of list.split(',').map((s) => s.trim()).filter(Boolean)) {
      const [local, name = local] = spec.split(/\s+as\s+/);
      statements.set(name, { from, text: `export { ${local} as ${name} } from ${JSON.stringify(path.resolve(path.dirname(file), from))};` });
    }
  }
  return statements;
}

/** The names `importer` imports from `specifier` (`import { a, b } from 'gmr'`), or undefined for any other form. */
function importedNames(importer, specifier) {
  const text = readFileSync(importer, 'utf8');
  const forms = [...text.matchAll(new RegExp(`import\\s*([^;]*?)\\s*from\\s*'${specifier}'`, 'g'))].map((m) => m[1]);
  if (forms.length === 0 || forms.some((f) => !/^\{[^}]*\}$/.test(f))) return undefined;
  return forms.flatMap((f) => f.slice(1, -1).split(',').map((s) => s.trim().split(/\s+as\s+/)[0]).filter(Boolean));
}

/** The job API entry's names; written next to it as job-api.json, which the running gmr reads (import-module.ts). */
const jobApiNames = [...reExports(entry('gmr'))].filter(([, { from }]) => JOB_API.includes(from)).map(([name]) => name).sort();

const self = {
  name: 'gmr-self',
  setup(b) {
    b.onResolve({ filter: /^gmr-job-api$/ }, () => ({ path: `gmr:${jobApiNames.join(',')}`, namespace: 'gmr-names' }));
    b.onResolve({ filter: /^gmr(\/protocol)?$/ }, (args) => {
      const names = importedNames(args.importer, args.path);
      if (names === undefined) return { path: entry(args.path) };
      return { path: `${args.path}:${[...new Set(names)].sort().join(',')}`, namespace: 'gmr-names' };
    });
    b.onLoad({ filter: /.*/, namespace: 'gmr-names' }, (args) => {
      const [specifier, names] = args.path.split(':');
      const statements = reExports(entry(specifier));
      const missing = names.split(',').filter((n) => !statements.has(n));
      if (missing.length > 0) return { errors: [{ text: `'${specifier}' exports no ${missing.join(', ')}` }] };
      return { contents: names.split(',').map((n) => statements.get(n).text).join('\n'), resolveDir: root, loader: 'js' };
    });
  },
};

rmSync(path.join(root, 'dist/bundle'), { recursive: true, force: true });
const jobs = readdirSync(path.join(root, 'dist/jobs')).filter((f) => f.endsWith('.js'));
await build({
  absWorkingDir: root,
  entryPoints: {
    'cli/main': 'dist/src/cli/main.js',
    index: 'dist/src/index.js',
    'protocol/index': 'dist/src/protocol/index.js',
    'job-api': 'gmr-job-api',
    // bin/gmr.js starts `gmr run`'s first worker through it before it loads the CLI: the same module instance the driver's local cluster claims it from.
    'prestart-worker': 'dist/src/mapreduce/driver/prestart-worker.js',
    ...Object.fromEntries(jobs.map((f) => [`jobs/${f.slice(0, -3)}`, `dist/jobs/${f}`])),
  },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  plugins: [self],
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
writeFileSync(path.join(root, 'dist/bundle/job-api.json'), `${JSON.stringify(jobApiNames)}\n`);
