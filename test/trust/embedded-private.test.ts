/**
 * The embedded default is private to its user. The probe, as another local user (nobody,
 * through setpriv) against a root `gmr run`: find the job server, register a rogue worker, send
 * `shutdown`. The server listens on no TCP port, only on a Unix socket in a 0700 folder, so nobody
 * cannot connect at all; the run's own user cannot shut it down either; the run commits the
 * reference output.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { referenceWordcount } from '../helpers/reference.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Harness, SLOW_JOB, committedOutput, exitOf, readManifest, slowCorpus, taskLog } from '../helpers/harness.ts';

const h = new Harness();
afterEach(() => h.cleanup());

/** The --servers argument of the driver's local workers: the embedded server's address. */
function embeddedServer(driverPid: number): string | undefined {
  let children: string[];
  try {
    children = execFileSync('pgrep', ['-P', String(driverPid)], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return undefined;
  }
  for (const pid of children) {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const at = args.indexOf('--servers');
    if (args.includes('worker') && at >= 0) return args[at + 1];
  }
  return undefined;
}

/** A few lines of Node run as `nobody`: connect to the socket, register a worker, send shutdown. */
const PROBE = `
const net = require('node:net');
const s = net.connect({ path: process.argv[1] });
s.on('connect', () => { s.write(Buffer.from('\\0REQ\\0\\0\\0\\x01\\0\\0\\0\\x0dgmr.map.slow-wordcount', 'latin1')); s.write('shutdown\\n'); });
s.on('data', (d) => process.stdout.write('answer ' + d.toString('latin1')));
s.on('error', (e) => { console.log('error ' + e.code); process.exit(0); });
setTimeout(() => process.exit(0), 3000);
`;

/** One admin line as the run's own user, through the socket; the server's answer. */
async function adminLine(path: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path });
    let answer = '';
    socket.on('connect', () => socket.write(`${line}\n`));
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      if (answer.includes('\n')) socket.end();
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('the embedded default (root run, nobody probing)', () => {
  it('has no TCP port, a socket in a folder only its user can enter, and refuses shutdown; the run commits', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    const expected = referenceWordcount(input.files);
    const log = join(dir, 'tasks.log');
    const out = join(dir, 'out');
    const driver = h.gmr(['run', SLOW_JOB, '-i', input.dir, '-o', out, '--workers', '2', '--reducers', '2', '--split-size', '4k', '--param', 'mapSleepMs=4', '--quiet'], { GMR_TEST_TASK_LOG: log });
    await waitFor(() => taskLog(log).some((e) => e.phase === 'map' && e.what === 'start'), 'the first map task to start', 90_000);
    const socket = embeddedServer(driver.pid);
    expect(socket).toMatch(/^\/.*\/gmr-[^/]+\/server\.sock$/);
    const folder = dirname(socket as string);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(statSync(folder).uid).toBe(process.getuid?.());

    // No TCP listener belongs to the driver (ss prints users:(("node",pid=N,...)) for each one).
    const listeners = execFileSync('ss', ['-Hltnp'], { encoding: 'utf8' });
    expect(listeners).not.toContain(`pid=${driver.pid},`);

    const probe = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', PROBE, socket as string], { encoding: 'utf8', timeout: 30_000 });
    expect(probe.stdout.trim()).toBe('error EACCES');

    // The run's own user may connect, but shutdown is not an admin command the embedded server takes.
    const answer = await adminLine(socket as string, 'shutdown');
    expect(answer).toMatch(/^ERR /);

    const result = await exitOf(driver, 90_000);
    expect(result.code, driver.stderr()).toBe(0);
    expect(committedOutput(out)).toBe(expected);
    expect(readManifest(out)).toMatchObject({ mode: 'embedded', signed: true });
  }, 240_000);
});
