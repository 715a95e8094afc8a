/**
 * How `gmr status` shows a run: a few lines for people, or one JSON object (`--json`) with the
 * same facts for scripts; `--all` as one line (or object) per run of an output folder.
 */
import type { WatchedRun } from '../mapreduce/status/live-status.ts';
import type { PhaseCounts } from '../mapreduce/status/run-status.ts';
import type { ServerTasks } from '../mapreduce/status/server-tasks.ts';
import { formatBytes } from './progress.ts';

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}

function phaseLine(name: string, c: PhaseCounts, bytes: boolean): string {
  const extra = [c.running ? `${c.running} running` : '', c.failed ? `${c.failed} failed` : ''].filter(Boolean).join(', ');
  const size = bytes && c.bytesTotal > 0 ? `, ${formatBytes(c.bytesDone)}/${formatBytes(c.bytesTotal)}` : '';
  return `${name} ${c.done}/${c.total} tasks${extra ? ` (${extra})` : ''}${size}, ${c.attempts} attempts`;
}

/** The JSON `gmr status --json` prints for one run. */
export function statusJson(run: WatchedRun): Record<string, unknown> {
  const s = run.status;
  return {
    job: s.job,
    runId: s.runId,
    output: s.output,
    outcome: run.outcome,
    step: s.step,
    phase: s.phase,
    steps: s.steps,
    tasks: {
      done: run.tasksDone,
      total: run.tasksTotal,
      running: s.steps.reduce((n, st) => n + st.map.running + st.reduce.running, 0),
      failed: s.steps.reduce((n, st) => n + st.map.failed + st.reduce.failed, 0),
    },
    bytes: { done: run.bytesDone, total: run.bytesTotal },
    rate: Math.round(run.rate),
    etaMs: run.etaMs === null ? null : Math.round(run.etaMs),
    elapsedMs: run.elapsedMs,
    attempts: run.attempts,
    running: s.running,
    noWorker: s.noWorker ?? null,
    live: run.live,
    liveError: run.liveError,
    messages: s.messages,
    counters: s.counters,
    startedAt: s.startedAt,
    updatedAt: s.updatedAt,
    finishedAt: s.finishedAt,
    exitCode: s.exitCode,
    error: s.error,
    driver: { ...s.driver, gone: run.outcome === 'abandoned' },
    resume: run.resume,
  };
}

export function formatRun(run: WatchedRun): string {
  const s = run.status;
  const lines = [`${s.job}  run ${s.runId}  ${run.outcome}${s.output ? `  ${s.output}` : ''}`];
  for (const step of s.steps) {
    const here = step.index === s.step && run.outcome === 'running' ? ` (${s.phase})` : '';
    lines.push(`  step ${step.index + 1}/${s.steps.length}${here}: ${phaseLine('map', step.map, true)}`);
    if (step.reduce.total > 0) lines.push(`              ${phaseLine('reduce', step.reduce, false)}`);
  }
  const pace = run.outcome === 'running' ? `, ${formatBytes(run.rate)}/s${run.etaMs === null ? '' : `, ETA ${duration(run.etaMs)}`}` : '';
  lines.push(`  started ${s.startedAt}${s.finishedAt ? `, finished ${s.finishedAt}` : ''}, elapsed ${duration(run.elapsedMs)}${pace}`);
  lines.push(`  driver pid ${s.driver.pid} on ${s.driver.host}${run.outcome === 'abandoned' ? ' is gone (killed?)' : ''}`);
  if (s.noWorker && run.outcome === 'running') {
    lines.push(`  no worker serves ${s.noWorker.functions.join(', ')} since ${s.noWorker.since}; the run fails ${Math.round(s.noWorker.timeoutMs / 1000)} s after that (--no-worker-timeout)`);
  }
  for (const t of s.running.filter((r) => r.status !== undefined)) {
    lines.push(`  ${s.steps.length > 1 ? `step ${t.step + 1} ` : ''}${t.phase} ${t.index} attempt ${t.attempt}: ${oneLine(t.status ?? '')}`);
  }
  for (const t of run.live.filter((l) => l.known)) {
    lines.push(`  server: ${t.phase} ${t.index} ${t.running ? 'running' : 'queued'} ${t.numerator}/${t.denominator}`);
  }
  if (run.liveError) lines.push(`  (${run.liveError})`);
  if (s.messages.length > 0) lines.push('  latest messages:', ...s.messages.map((m) => `    ${m.at} ${m.task}: ${m.text}`));
  const counters = Object.entries(s.counters);
  if (counters.length > 0) lines.push(`  counters: ${counters.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  if (s.error) lines.push(`  failed: ${s.error}`);
  if (run.resume) lines.push(`  resume with: ${run.resume}`);
  return `${lines.join('\n')}\n`;
}

/** A task's status text on one line of the terminal. */
function oneLine(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ');
}

/** One line per run, for `--all`. */
export function formatHistoryLine(run: WatchedRun): string {
  const s = run.status;
  const counters = Object.entries(s.counters).map(([k, v]) => `${k}=${v}`).join(',');
  return [s.startedAt, s.finishedAt ?? '-', run.outcome.padEnd(9), s.runId, s.job, `${run.tasksDone}/${run.tasksTotal} tasks`, `${run.attempts} attempts`, counters || '-'].join('  ');
}

export function formatServerTasks(view: ServerTasks): string {
  const lines = [`run ${view.runId} on the job servers (finished tasks are forgotten there; give the output folder for totals)`];
  for (const s of view.servers) lines.push(`  ${s.address} ${s.up ? 'up' : `down: ${s.error}`}`);
  if (view.tasks.length === 0) lines.push('  no tasks of this run are queued or running');
  for (const t of view.tasks) lines.push(`  ${t.phase} ${t.index} ${t.running ? 'running' : t.known ? 'queued' : 'gone'} ${t.numerator}/${t.denominator}`);
  return `${lines.join('\n')}\n`;
}
