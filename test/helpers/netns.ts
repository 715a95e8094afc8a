/**
 * A private LAN of network namespaces for tests that need several hosts on one machine (root only).
 *
 * Layout: one namespace holds a bridge and nothing else (no address); each host namespace gets a
 * veth whose other end is created directly inside the bridge namespace, and an address we assign
 * in a private /24. Nothing is created in the root namespace (no link, no address, no route), and
 * the host namespaces have only their /24 route and loopback, so their traffic can reach no address
 * but each other's.
 *
 * Names carry the test process id and a random tag, so parallel runs never meet. destroy() kills
 * every process still inside the namespaces (by pid: all were started by this test) and deletes
 * them, which also removes their veths; it runs at process exit too if a test forgot it.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outcomeOf, type GmrResult } from './gmr-cli.ts';

export interface NetnsHost {
  /** h0, h1, … */
  name: string;
  /** The namespace's name (for `ip netns exec`). */
  ns: string;
  /** Its address on the LAN. */
  address: string;
}

export interface Lan {
  bridgeNs: string;
  hosts: NetnsHost[];
  /** Starts `argv` inside the host's namespace; killed by destroy() if still running. */
  spawn(host: NetnsHost, argv: string[], options?: { env?: NodeJS.ProcessEnv }): ChildProcess;
  /** Runs `argv` inside the host's namespace to the end, killed after timeoutMs. */
  run(host: NetnsHost, argv: string[], options?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<GmrResult>;
  /** Kills what runs inside, deletes every namespace (and so every veth). Idempotent. */
  destroy(): Promise<void>;
}

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => {
  try {
    execFileSync(p, ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

function ip(args: string[]): void {
  if (!IP) throw new Error('ip (iproute2) is not installed');
  const r = spawnSync(IP, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.trim() || r.error?.message}`);
}

function ipOut(args: string[]): string {
  const r = spawnSync(IP as string, args, { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout : '';
}

/** Every namespace name that exists now. */
export function listNamespaces(): string[] {
  if (!IP) return [];
  return ipOut(['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0] as string)
    .filter((name) => name !== '');
}

/**
 * Why this machine cannot build the LAN (no iproute2, not root, the kernel refuses network or
 * mount namespaces), or undefined when it can. Tries the real thing once and undoes it.
 */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux, this is ${process.platform}`;
  if (!IP) return 'ip (iproute2) is not installed: apt-get install -y iproute2 (.ci/run does this)';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = `gmr-probe-${process.pid}-${randomBytes(3).toString('hex')}`;
  const add = spawnSync(IP, ['netns', 'add', probe], { encoding: 'utf8', timeout: 10_000 });
  if (add.status !== 0) return `the kernel refused a network namespace: ip netns add: ${add.stderr.trim() || add.error?.message}`;
  const dir = mkdtempSync(join(tmpdir(), 'gmr-probe-'));
  try {
    // What the LAN needs: a veth pair, exec inside, and a private mount namespace with a tmpfs.
    const veth = spawnSync(IP, ['-n', probe, 'link', 'add', 'name', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1'], { encoding: 'utf8', timeout: 10_000 });
    if (veth.status !== 0) return `the kernel refused a veth pair: ${veth.stderr.trim()}`;
    const mount = spawnSync(IP, ['netns', 'exec', probe, 'unshare', '--mount', 'sh', '-c', 'mount -t tmpfs none "$1"', 'sh', dir], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (mount.status !== 0) return `the kernel refused a mount namespace with a tmpfs: ${mount.stderr.trim() || mount.error?.message}`;
    return undefined;
  } finally {
    spawnSync(IP, ['netns', 'del', probe], { timeout: 10_000 });
    rmSync(dir, { recursive: true, force: true });
  }
}

const live = new Set<Lan>();
process.once('exit', () => {
  // Last resort (the test normally destroys its LAN in afterAll): synchronous, best effort.
  for (const lan of live) {
    for (const ns of [...lan.hosts.map((h) => h.ns), lan.bridgeNs]) {
      for (const pid of ipOut(['netns', 'pids', ns]).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync(IP as string, ['netns', 'del', ns], { timeout: 5000 });
    }
  }
});

/**
 * Builds `count` hosts h0…h(count-1) at `${subnet}.${10 + i}/24` on one bridge. Throws (after
 * undoing what it made) when a step fails.
 */
export function createLan(count: number, subnet = '10.231.47'): Lan {
  const tag = `gmr-${process.pid}-${randomBytes(3).toString('hex')}`;
  const bridgeNs = `${tag}-br`;
  const hosts: NetnsHost[] = Array.from({ length: count }, (_, i) => ({
    name: `h${i}`,
    ns: `${tag}-h${i}`,
    address: `${subnet}.${10 + i}`,
  }));
  const children = new Set<ChildProcess>();
  const made: string[] = [];
  let destroying: Promise<void> | undefined;

  const destroy = async (): Promise<void> => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
    const errors: string[] = [];
    for (const ns of [...made].reverse()) {
      // Anything else still inside (a grandchild) was started by this test too.
      for (const pid of ipOut(['netns', 'pids', ns]).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      try {
        ip(['netns', 'del', ns]);
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
    live.delete(lan);
    const left = listNamespaces().filter((name) => name.startsWith(tag));
    if (errors.length > 0 || left.length > 0) {
      throw new Error(`LAN ${tag} not fully removed: ${[...errors, ...left.map((n) => `${n} still exists`)].join('; ')}`);
    }
  };

  const spawnIn = (host: NetnsHost, argv: string[], options: { env?: NodeJS.ProcessEnv } = {}): ChildProcess => {
    const child = spawn(IP as string, ['netns', 'exec', host.ns, ...argv], {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  const lan: Lan = {
    bridgeNs,
    hosts,
    spawn: spawnIn,
    run(host, argv, options = {}) {
      return outcomeOf(spawnIn(host, argv, options), options.timeoutMs ?? 60_000);
    },
    destroy() {
      destroying ??= destroy();
      return destroying;
    },
  };
  live.add(lan);

  try {
    ip(['netns', 'add', bridgeNs]);
    made.push(bridgeNs);
    ip(['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    hosts.forEach((host, i) => {
      ip(['netns', 'add', host.ns]);
      made.push(host.ns);
      // Both ends are created in namespaces: the root namespace never sees this link.
      ip(['-n', bridgeNs, 'link', 'add', `port${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns]);
      ip(['-n', bridgeNs, 'link', 'set', `port${i}`, 'master', 'br0', 'up']);
      ip(['-n', host.ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
      ip(['-n', host.ns, 'link', 'set', 'eth0', 'up']);
    });
  } catch (error) {
    // Undo synchronously enough for the caller: no child runs yet, so destroy() only deletes.
    void lan.destroy().catch(() => {});
    throw error;
  }
  return lan;
}

/** `ip -n <ns> <args>` output, for assertions on a namespace's links, addresses and routes. */
export function ipIn(ns: string, args: string[]): string {
  return ipOut(['-n', ns, ...args]);
}
