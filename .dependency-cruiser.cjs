/**
 * The import rules of gmr (docs/ARCHITECTURE.md, ../shared/DESIGN.md "Layers"), checked by
 * test/architecture/dependencies.test.ts in `npm test` and by `npm run deps`. Imports point down:
 * cli -> mapreduce -> client/worker/server -> connection -> protocol -> errors. In src/mapreduce, driver/ and
 * task/ never import each other; both may import shuffle/ and job/. Type-only imports count
 * (the swc parser keeps `import type`), so a type cannot smuggle a dependency upward.
 */
const ROLES = '^src/(client|worker|server)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A circle makes a group of files one concept in disguise: none can be read or tested alone.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-leaves',
      severity: 'error',
      comment: 'src/errors.ts and src/defaults.ts are below everything: they import nothing of gmr.',
      from: { path: '^src/(errors|defaults)\\.ts$' },
      to: { path: '^(src|jobs)/' },
    },
    {
      name: 'index-is-the-top',
      severity: 'error',
      comment: 'src/index.ts is the public surface: gmr code imports the module it needs, never the surface.',
      from: { path: '^src/' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'protocol-below-roles',
      severity: 'error',
      comment: 'The wire layer knows only packets and errors.',
      from: { path: '^src/protocol/' },
      to: { path: '^src/(connection|client|worker|server|mapreduce|cli)/' },
    },
    {
      name: 'connection-below-roles',
      severity: 'error',
      comment: 'src/connection is the socket plumbing client and worker share: it knows packets, not roles.',
      from: { path: '^src/connection/' },
      to: { path: '^src/(client|worker|server|mapreduce|cli)/' },
    },
    {
      name: 'roles-below-mapreduce',
      severity: 'error',
      comment: 'Client, worker and server are Gearman roles: they know nothing of map/reduce or the CLI.',
      from: { path: ROLES },
      to: { path: '^src/(mapreduce|cli)/' },
    },
    {
      name: 'roles-side-by-side',
      severity: 'error',
      comment: 'Client, worker and server do not import each other; what they share lives below them.',
      from: { path: ROLES },
      to: { path: ROLES, pathNot: '^src/$1/' },
    },
    {
      name: 'mapreduce-below-cli',
      severity: 'error',
      from: { path: '^src/mapreduce/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'driver-and-task-apart',
      severity: 'error',
      comment: 'The driver and the task runtime meet only in shuffle/ (the wire contract) and job/ (the module API).',
      from: { path: '^src/mapreduce/driver/' },
      to: { path: '^src/mapreduce/task/' },
    },
    {
      name: 'task-and-driver-apart',
      severity: 'error',
      from: { path: '^src/mapreduce/task/' },
      to: { path: '^src/mapreduce/driver/' },
    },
    {
      name: 'shuffle-below-driver-and-task',
      severity: 'error',
      comment: 'shuffle/ is the contract both sides share: it may use job/ types, nothing above.',
      from: { path: '^src/mapreduce/shuffle/' },
      to: { path: '^src/mapreduce/(driver|task|status)/' },
    },
    {
      name: 'job-is-the-bottom-room',
      severity: 'error',
      comment: 'job/ is the job-module API: every other room may use it, it uses none of them.',
      from: { path: '^src/mapreduce/job/' },
      to: { path: '^src/mapreduce/(driver|task|shuffle|status)/' },
    },
    {
      name: 'status-below-driver',
      severity: 'error',
      comment: 'status/ (run status files) is read by watchers and written by the driver; it imports neither driver/ nor task/.',
      from: { path: '^src/mapreduce/status/' },
      to: { path: '^src/mapreduce/(driver|task)/' },
    },
    {
      name: 'jobs-use-the-public-api',
      severity: 'error',
      comment: "Built-in jobs are written only against the public API: import from 'gmr', not from src/.",
      from: { path: '^jobs/' },
      to: { path: '^src/' },
    },
    {
      name: 'src-does-not-import-gmr',
      severity: 'error',
      comment: "Inside the package, import the module itself; 'gmr' is for users and jobs.",
      from: { path: '^src/' },
      to: { path: '^(gmr|node_modules/gmr/)' },
    },
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
  },
};
