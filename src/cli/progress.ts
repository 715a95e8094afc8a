/**
 * Progress on stderr: a live line redrawn on a terminal, a plain line every few seconds otherwise.
 */
import type { PhaseProgress, RunProgress } from '../mapreduce/driver/run-progress.ts';

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

function tasks(p: PhaseProgress): string {
  const extra = [p.running ? `${p.running} running` : '', p.failed ? `${p.failed} failed` : ''].filter(Boolean).join(', ');
  return `${p.done}/${p.total}${extra ? ` (${extra})` : ''}`;
}

export function formatProgress(p: RunProgress): string {
  const map = p.map;
  const pct = map.bytesTotal > 0 ? Math.floor((100 * map.bytesDone) / map.bytesTotal) : 0;
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? map.bytesDone / seconds : 0;
  const eta = rate > 0 && map.bytesDone < map.bytesTotal ? `, ETA ${formatDuration(((map.bytesTotal - map.bytesDone) / rate) * 1000)}` : '';
  const mapPart = `map ${pct}% (${formatBytes(map.bytesDone)}/${formatBytes(map.bytesTotal)}, ${formatBytes(rate)}/s${eta}) tasks ${tasks(map)}`;
  const reducePart = p.reduce.total > 0 ? ` · reduce ${tasks(p.reduce)}` : '';
  return `${mapPart}${reducePart} · ${formatDuration(p.elapsedMs)}`;
}

export interface ProgressPrinter {
  update(p: RunProgress): void;
  done(): void;
}

export function progressPrinter(stderr: NodeJS.WritableStream, mode: 'tty' | 'plain' | 'quiet', intervalMs = 5000): ProgressPrinter {
  if (mode === 'quiet') return { update() {}, done() {} };
  let last: RunProgress | undefined;
  let lastDraw = 0;
  let drawn = false;
  const draw = (): void => {
    if (!last) return;
    const line = formatProgress(last);
    if (mode === 'tty') stderr.write(`\r\x1b[2K${line}`);
    else stderr.write(`${line}\n`);
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
      // The result may go to the same terminal next: end the live line before it does.
      if (p.phase === 'commit') return done();
      if (mode === 'tty' && Date.now() - lastDraw > 100) draw();
    },
    done,
  };
}
