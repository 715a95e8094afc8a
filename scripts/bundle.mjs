// Bundles tsc's dist/ into dist/bundle/ (esbuild, split into shared chunks): a gmr process then loads ~30 files, not ~200 modules.
// Entries: the CLI (bin/gmr.js loads dist/bundle/cli/main.js), the package's two `exports` and the
// built-in jobs, whose `import … from 'gmr'` is bound here to the same chunks the CLI holds (one
// instance of every module in a process). Commands and other lazy `import()`s stay separate chunks,
// so a worker does not parse the driver. Dependencies stay in node_modules. The layout the running
// code expects is in src/mapreduce/job/package-root.ts.
import { readdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
rmSync(`${root}dist/bundle`, { recursive: true, force: true });
const jobs = readdirSync(`${root}dist/jobs`).filter((f) => f.endsWith('.js'));
/** 'gmr' and 'gmr/protocol' as tsc compiled them, so they share the chunks of the entries below. */
const self = {
  name: 'gmr-self',
  setup(b) {
    b.onResolve({ filter: /^gmr(\/protocol)?$/ }, (args) => ({ path: `${root}dist/src/${args.path === 'gmr' ? '' : 'protocol/'}index.js` }));
  },
};
await build({
  absWorkingDir: root,
  entryPoints: {
    'cli/main': 'dist/src/cli/main.js',
    index: 'dist/src/index.js',
    'protocol/index': 'dist/src/protocol/index.js',
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
