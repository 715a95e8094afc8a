/**
 * Paired, alternating timing for the benchmarks: every round runs each command once, the order
 * rotating from round to round (A B C, B C A, …), so a change in a shared machine's load hits all
 * of them. Figures are medians with min–max; ratios are the median of the per-round ratios.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';

export interface Command {
  name: string;
  /** A bash command line. */
  command: string;
  cwd?: string;
}

export interface Timing {
  wall: number;
  /** user + sys CPU seconds of the command and its children. */
  cpu: number;
  maxRssKb: number;
  stdout: string;
}

export interface Series {
  name: string;
  timings: Timing[];
}

export interface PairedResult {
  series: Series[];
  /** 1-minute load average before each round. */
  loads: number[];
}

export function timeCommand(c: Command): Timing {
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', 'bash', '-c', c.command], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    ...(c.cwd === undefined ? {} : { cwd: c.cwd }),
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${c.command}\n${r.stderr}`);
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const [user, sys, rss] = last.split(' ').map(Number);
  return { wall, cpu: (user ?? 0) + (sys ?? 0), maxRssKb: rss ?? 0, stdout: r.stdout };
}

/** `rounds` rounds of every command, order rotating; `check` sees each output (throw to fail). */
export function runPaired(commands: Command[], rounds: number, check?: (name: string, stdout: string) => void): PairedResult {
  const series = commands.map((c) => ({ name: c.name, timings: [] as Timing[] }));
  const loads: number[] = [];
  for (let round = 0; round < rounds; round++) {
    loads.push(loadavg()[0] ?? 0);
    for (let k = 0; k < commands.length; k++) {
      const i = (round + k) % commands.length;
      const c = commands[i] as Command;
      const t = timeCommand(c);
      check?.(c.name, t.stdout);
      t.stdout = '';
      (series[i] as Series).timings.push(t);
      process.stderr.write(`  round ${round + 1}: ${c.name}: ${t.wall.toFixed(2)} s\n`);
    }
  }
  return { series, loads };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** "median (min–max)" with `digits` decimals. */
export function spread(xs: number[], digits = 2): string {
  return `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
}

/** Per-round wall ratios a / b. */
export function ratios(a: Series, b: Series): number[] {
  return a.timings.map((t, i) => t.wall / ((b.timings[i] as Timing).wall));
}

export function loadLine(loads: number[]): string {
  return `1-minute load average before the rounds: ${loads.map((l) => l.toFixed(2)).join(', ')}`;
}
