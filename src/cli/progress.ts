/**
 * Progress on stderr: a live line redrawn on a terminal, a plain line every few seconds otherwise.
 */
import type { RunProgress } from '../mapreduce/driver/run-progress.ts';
import type { PhaseProgress } from '../mapreduce/status/run-status.ts';

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}

function tasks(p: PhaseProgress, extras: boolean): string {
  const extra = extras ? [p.running ? `${p.running} running` : '', p.failed ? `${p.failed} failed` : ''].filter(Boolean).join(', ') : '';
  return `${p.done}/${p.total}${extra ? ` (${extra})` : ''}`;
}

/** How much of the line to show, from everything down to the bare counts. */
interface Detail {
  bytes: boolean;
  rate: boolean;
  eta: boolean;
  extras: boolean;
  /** The newest ctx.status of a running task, at the end: the first thing to go. */
  status: boolean;
}

const DETAILS: Detail[] = [
  { bytes: true, rate: true, eta: true, extras: true, status: true },
  { bytes: true, rate: true, eta: true, extras: true, status: false },
  { bytes: true, rate: true, eta: false, extras: true, status: false },
  { bytes: true, rate: false, eta: false, extras: true, status: false },
  { bytes: false, rate: false, eta: false, extras: true, status: false },
  { bytes: false, rate: false, eta: false, extras: false, status: false },
];

function formatWith(p: RunProgress, d: Detail): string {
  const map = p.map;
  const pct = map.bytesTotal > 0 ? Math.floor((100 * map.bytesDone) / map.bytesTotal) : 0;
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? map.bytesDone / seconds : 0;
  const eta = d.eta && rate > 0 && map.bytesDone < map.bytesTotal ? `, ETA ${formatDuration(((map.bytesTotal - map.bytesDone) / rate) * 1000)}` : '';
  const bytes = d.bytes ? ` (${formatBytes(map.bytesDone)}/${formatBytes(map.bytesTotal)}${d.rate ? `, ${formatBytes(rate)}/s` : ''}${eta})` : '';
  const mapPart = `map ${pct}%${bytes} tasks ${tasks(map, d.extras)}`;
  const reducePart = p.reduce.total > 0 ? ` · reduce ${tasks(p.reduce, d.extras)}` : '';
  const stepPart = p.steps > 1 ? `step ${p.step}/${p.steps} · ` : '';
  // Said at the front, and kept whatever the width: the run fails when it lasts the timeout.
  const noWorker = p.noWorker ? `no worker for ${formatDuration(p.elapsedMs - p.noWorker.sinceElapsedMs)} (fails at ${formatDuration(p.noWorker.timeoutMs)}) · ` : '';
  const status = d.status && p.status ? ` · ${p.status.task}: ${p.status.text.replace(/\s+/g, ' ')}` : '';
  return `${noWorker}${stepPart}${mapPart}${reducePart} · ${formatDuration(p.elapsedMs)}${status}`;
}

/**
 * The progress line. Given a width (a terminal's columns), it never exceeds it: it drops the task
 * status, the ETA, the rate, the byte counts and the running/failed counts in that order, then
 * truncates with "…".
 */
export function formatProgress(p: RunProgress, width?: number): string {
  if (width === undefined || width <= 0) return formatWith(p, DETAILS[0]!);
  for (const d of DETAILS) {
    const line = formatWith(p, d);
    if (line.length <= width) return line;
  }
  const bare = formatWith(p, DETAILS[DETAILS.length - 1]!);
  return width <= 1 ? bare.slice(0, width) : `${bare.slice(0, width - 1)}…`;
}

export interface ProgressPrinter {
  update(p: RunProgress): void;
  /** A line of its own (a log line): on a terminal, the live line is cleared first and redrawn after. */
  print(line: string): void;
  done(): void;
}

export interface PrinterOptions {
  intervalMs?: number;
  /** The terminal's width now (it may be resized); undefined when unknown. */
  columns?: () => number | undefined;
}

export function progressPrinter(stderr: NodeJS.WritableStream, mode: 'tty' | 'plain' | 'quiet', options: PrinterOptions = {}): ProgressPrinter {
  if (mode === 'quiet') return { update() {}, print() {}, done() {} };
  const intervalMs = options.intervalMs ?? 5000;
  let last: RunProgress | undefined;
  // When the run started, by this process's clock: elapsed time moves on even when no update comes.
  let origin = 0;
  let lastDraw = 0;
  let drawn = false;
  const draw = (): void => {
    if (!last) return;
    const now = { ...last, elapsedMs: Math.max(last.elapsedMs, Date.now() - origin) };
    if (mode === 'tty') {
      // One column short of the width: writing the last column would wrap on some terminals.
      const columns = options.columns?.();
      const line = formatProgress(now, columns !== undefined && columns > 1 ? columns - 1 : undefined);
      stderr.write(`\r\x1b[2K${line}`);
    } else stderr.write(`${formatProgress(now)}\n`);
    drawn = true;
    lastDraw = Date.now();
  };
  const timer = setInterval(draw, mode === 'tty' ? 250 : intervalMs);
  timer.unref();
  let finished = false;
  const done = (): void => {
    if (finished) return;
    finished = true;
    clearInterval(timer);
    draw();
    if (mode === 'tty' && drawn) stderr.write('\n');
  };
  return {
    update(p) {
      if (finished) return;
      last = p;
      origin = Date.now() - p.elapsedMs;
      // The result may go to the same terminal next: end the live line before it does.
      if (p.phase === 'commit') return done();
      if (mode === 'tty' && Date.now() - lastDraw > 100) draw();
    },
    print(line) {
      if (mode === 'tty' && drawn && !finished) {
        stderr.write(`\r\x1b[2K${line}\n`);
        draw();
      } else stderr.write(`${line}\n`);
    },
    done,
  };
}
