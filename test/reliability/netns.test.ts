/**
 * gmr across several hosts, built as network namespaces on one machine (needs root):
 *
 *   h0  driver: gmr run wordcount --servers a:4730,b:4730 --ship
 *   h1  gearmand (a)          h2  gearmand (b)
 *   h3, h4, h5  gmr worker --servers a:4730,b:4730, each in its own mount namespace where the
 *               input folder and the driver's temp folder are hidden under empty tmpfs mounts
 *
 * The hosts talk only over a private /24 on a bridge that lives in its own namespace; nothing is
 * added to the root namespace. What this proves:
 * - the driver, two real gearmand and three worker processes cooperate over real (virtual) network
 *   addresses, not loopback, and the answer equals the embedded run's and python3's;
 * - with --ship, workers need no shared filesystem: they cannot see the input or the driver's run
 *   folder (checked inside each worker's namespace before it starts), and the run still succeeds;
 * - without --ship, the same workers fail the run with a message that names the missing input,
 *   so the hiding is real and the --ship success is not an accident.
 *
 * Without namespace support (not root, no iproute2, kernel refuses), the test is skipped and says why.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCorpus } from '../helpers/corpus.ts';
import { GEARMAND_PATH } from '../helpers/gearmand.ts';
import { GMR_BIN, runGmr, userEnv } from '../helpers/gmr-cli.ts';
import { createLan, ipIn, netnsUnavailableReason, type Lan, type NetnsHost } from '../helpers/netns.ts';
import { referenceWordcount } from '../helpers/reference.ts';

const SUBNET = '10.231.47';
const MAP_FN = 'gmr.map.wordcount';
const REDUCE_FN = 'gmr.reduce.wordcount';

const unavailable = GEARMAND_PATH
  ? netnsUnavailableReason()
  : 'gearmand is not installed: apt-get install -y gearman-job-server (.ci/run does this)';
if (unavailable) console.warn(`netns test SKIPPED: ${unavailable}`);

/**
 * Runs inside a host: polls the admin `status` of every server until each function shows at
 * least `workers` workers (mode "workers") or until nothing is queued or running (mode "idle").
 * Prints the last status of every server as JSON; exits 1 when the limit passes.
 */
const POLL_SCRIPT = `
const net = require('node:net');
const { servers, functions, workers, mode, limitMs } = JSON.parse(process.env.GMR_POLL);
function status(address) {
  return new Promise((resolve) => {
    const [host, port] = address.split(':');
    const socket = net.connect({ host, port: Number(port) });
    let text = '';
    const done = (value) => { clearTimeout(timer); socket.destroy(); resolve(value); };
    const timer = setTimeout(() => done(null), 2000);
    socket.on('connect', () => socket.write('status\\n'));
    socket.setEncoding('utf8');
    socket.on('data', (d) => { text += d; if (/^\\.\\r?$/m.test(text)) done(text); });
    socket.on('error', (e) => done(null));
  });
}
function rows(text) {
  const out = {};
  for (const line of text.split('\\n')) {
    const [fn, total, running, count] = line.trim().split('\\t');
    if (count !== undefined) out[fn] = { total: Number(total), running: Number(running), workers: Number(count) };
  }
  return out;
}
(async () => {
  const deadline = Date.now() + limitMs;
  let last = {};
  for (;;) {
    let ok = true;
    for (const server of servers) {
      const text = await status(server);
      if (text === null) { ok = false; last[server] = 'no answer'; continue; }
      const r = rows(text);
      last[server] = r;
      for (const fn of functions) {
        const row = r[fn];
        if (mode === 'workers' && !(row && row.workers >= workers)) ok = false;
        if (mode === 'idle' && !(row && row.total === 0 && row.running === 0)) ok = false;
      }
    }
    if (ok) { process.stdout.write(JSON.stringify(last)); process.exit(0); }
    if (Date.now() > deadline) { process.stdout.write(JSON.stringify(last)); process.exit(1); }
    await new Promise((r) => setTimeout(r, 100));
  }
})();
`;

describe('gmr on several hosts (network namespaces, two gearmand, three isolated workers)', () => {
  let lan: Lan | undefined;
  let base: string;
  let inputParent: string;
  let input: string;
  let driverTmp: string;
  let files: string[];
  let expected: string;
  let embedded: string;

  beforeAll(async () => {
    if (unavailable) return;
    base = mkdtempSync(join(tmpdir(), `gmr-netns-${process.pid}-`));
    inputParent = join(base, 'input');
    input = join(inputParent, 'in');
    driverTmp = join(base, 'driver-tmp');
    mkdirSync(driverTmp, { recursive: true });
    files = writeCorpus(input, 47, 900);
    expected = referenceWordcount(files);
    const r = await runGmr(['run', 'wordcount', '--input', input, '--quiet'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    embedded = r.stdout;
    lan = createLan(6, SUBNET);
  });

  afterAll(async () => {
    try {
      await lan?.destroy();
    } finally {
      if (base) rmSync(base, { recursive: true, force: true });
    }
  });

  it.skipIf(unavailable !== undefined)(
    `--ship runs on workers that share no filesystem with the driver and matches the embedded run and python3${unavailable ? ` (SKIPPED: ${unavailable})` : ''}`,
    { timeout: 120_000 },
    async () => {
      if (!lan) throw new Error('no LAN');
      const [h0, h1, h2, ...workerHosts] = lan.hosts as [NetnsHost, NetnsHost, NetnsHost, ...NetnsHost[]];
      expect(workerHosts).toHaveLength(3);

      // The LAN is private: no address in the bridge namespace or the root namespace, and a host
      // routes only its own /24 (no default route, so no other address is reachable).
      expect(ipIn(lan.bridgeNs, ['-4', 'addr', 'show'])).not.toContain('inet');
      expect(ipIn(h0.ns, ['route', 'show']).trim()).toBe(`${SUBNET}.0/24 dev eth0 proto kernel scope link src ${h0.address}`);
      expect(ipIn(h0.ns, ['-4', 'route', 'show', 'table', 'all']).split('\n').filter((l) => l.startsWith('default'))).toEqual([]);

      // Two gearmand, each on its own host and LAN address.
      const servers = [h1, h2].map((h) => `${h.address}:4730`);
      const serverProcs = [h1, h2].map((h) =>
        lan!.spawn(h, [GEARMAND_PATH as string, '--port', '4730', '--listen', h.address, '--log-file', 'none', '--threads', '1']),
      );
      const serverErr = serverProcs.map((p) => collect(p.stderr));

      // Three workers, each in a private mount namespace that hides the input and the driver's
      // TMPDIR under empty tmpfs mounts; it refuses to start if the input is still visible.
      const hide = [
        'set -e',
        'mount -t tmpfs none "$1"',
        'mount -t tmpfs none "$2"',
        'if [ -e "$3" ] || [ -n "$(ls -A "$1")$(ls -A "$2")" ]; then echo "NOT ISOLATED: $3 is visible" >&2; exit 97; fi',
        'echo "isolated: $1 and $2 are empty" >&2',
        'shift 3',
        'exec "$@"',
      ].join('\n');
      const workerProcs = workerHosts.map((h) =>
        lan!.spawn(
          h,
          [
            'unshare', '--mount', 'sh', '-c', hide, 'sh', inputParent, driverTmp, files[0] as string,
            process.execPath, GMR_BIN, 'worker', '--servers', servers.join(','), '--jobs', 'wordcount', '--quiet',
          ],
          { env: userEnv() },
        ),
      );
      const workerErr = workerProcs.map((p) => collect(p.stderr));
      const diagnostics = (): string =>
        [
          ...serverErr.map((e, i) => `gearmand ${servers[i]}: ${e()}`),
          ...workerErr.map((e, i) => `worker ${workerHosts[i]?.name}: ${e()}`),
        ].join('\n');

      const poll = (mode: 'workers' | 'idle', limitMs: number) =>
        lan!.run(h0, [process.execPath, '-e', POLL_SCRIPT], {
          env: userEnv({ GMR_POLL: JSON.stringify({ servers, functions: [MAP_FN, REDUCE_FN], workers: 3, mode, limitMs }) }),
          timeoutMs: limitMs + 10_000,
        });

      // The driver's host sees all three workers registered on both servers, over the LAN.
      const ready = await poll('workers', 30_000);
      expect(ready.code, `workers did not register: ${ready.stdout} ${ready.stderr}\n${diagnostics()}`).toBe(0);
      for (const [i, err] of workerErr.entries()) {
        expect(err(), `worker ${workerHosts[i]?.name}`).toContain(`isolated: ${inputParent} and ${driverTmp} are empty`);
      }

      const driver = (extra: string[]) =>
        lan!.run(
          h0,
          [process.execPath, GMR_BIN, 'run', 'wordcount', '--input', input, '--servers', servers.join(','), '--reducers', '2', '--split-size', '2k', '--quiet', ...extra],
          { env: userEnv({ TMPDIR: driverTmp }), timeoutMs: 90_000 },
        );

      // With --ship the run succeeds and the answer is the embedded run's and python3's.
      const shipped = await driver(['--ship', '--json']);
      expect(shipped.code, `${shipped.stderr}\n${diagnostics()}`).toBe(0);
      expect(shipped.stdout).toBe(expected);
      expect(shipped.stdout).toBe(embedded);
      const summary = JSON.parse(shipped.stderr.trim().split('\n').pop() as string) as {
        mapTasks: number;
        tasks: Array<{ attempts: Array<{ worker?: string }> }>;
      };
      expect(summary.mapTasks).toBeGreaterThanOrEqual(10);
      // The work really was spread over the hosts: every result came from one of the three
      // workers (the manifest names each attempt's worker as host:pid), and more than one did.
      const workerPids = new Set(workerProcs.map((p) => String(p.pid)));
      const used = summary.tasks.flatMap((t) => t.attempts.map((a) => (a.worker ?? '').split(':').pop() as string));
      for (const pid of used) expect(workerPids.has(pid), `worker ${pid} of ${[...workerPids].join(', ')}`).toBe(true);
      expect(new Set(used).size).toBeGreaterThanOrEqual(2);
      // The driver's run folder lived in its TMPDIR (hidden from the workers) and was removed.
      expect(readdirSync(driverTmp)).toEqual([]);

      // Control: without --ship the map tasks name paths the workers cannot see, so the run fails
      // and says which file was missing. This is what makes the success above meaningful.
      const named = await driver(['--max-attempts', '1']);
      expect(named.code, named.stderr).not.toBe(0);
      expect(named.stdout).toBe('');
      expect(named.stderr).toMatch(/ENOENT|no such file|outside the input roots/i);
      expect(named.stderr).toContain(input);

      // Nothing is left queued or running on either server.
      const idle = await poll('idle', 20_000);
      expect(idle.code, `servers not idle: ${idle.stdout}`).toBe(0);

      // Every process was still up (none crashed or refused to start).
      for (const p of [...serverProcs, ...workerProcs]) expect(p.exitCode, diagnostics()).toBeNull();
    },
  );
});

function collect(stream: NodeJS.ReadableStream | null): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (d: string) => (text += d));
  return () => text;
}
