/**
 * The dashboard page as HTML rendered on the server: readable without JavaScript (and refreshed by
 * a <noscript> meta refresh); with JavaScript, a few lines replace <main> from server-sent events.
 * Everything shown is data from others (function names, errors) and is escaped.
 */
import { formatBytes } from '../progress.ts';
import type { ClusterView } from './cluster-view.ts';
import type { WatchedRun } from '../../mapreduce/status/live-status.ts';
import type { PhaseCounts } from '../../mapreduce/status/run-status.ts';

export interface DashboardView {
  title: string;
  cluster: ClusterView | null;
  runs: WatchedRun[];
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

function bar(label: string, c: PhaseCounts, bytes: boolean): string {
  const done = bytes && c.bytesTotal > 0 ? c.bytesDone : c.done;
  const max = bytes && c.bytesTotal > 0 ? c.bytesTotal : Math.max(1, c.total);
  const detail = [
    `${c.done}/${c.total} tasks`,
    c.running ? `${c.running} running` : '',
    c.failed ? `${c.failed} failed` : '',
    bytes && c.bytesTotal > 0 ? `${formatBytes(c.bytesDone)}/${formatBytes(c.bytesTotal)}` : '',
    c.attempts > c.done + c.running ? `${c.attempts} attempts` : '',
  ].filter(Boolean).join(', ');
  return `<div class="bar"><span>${label}</span><progress data-phase="${label}" value="${done}" max="${max}">${Math.floor((100 * done) / max)}%</progress><span>${escapeHtml(detail)}</span></div>`;
}

function renderRun(run: WatchedRun): string {
  const s = run.status;
  const facts = [
    `run <code>${escapeHtml(s.runId)}</code>`,
    s.output ? `output <code>${escapeHtml(s.output)}</code>` : '',
    `step ${s.step + 1}/${Math.max(1, s.steps.length)}, ${escapeHtml(s.phase)}`,
    `${run.tasksDone}/${run.tasksTotal} tasks`,
    `${run.attempts} attempts`,
    `${formatBytes(run.rate)}/s`,
    run.etaMs === null ? '' : `ETA ${duration(run.etaMs)}`,
    `elapsed ${duration(run.elapsedMs)}`,
    `started ${escapeHtml(s.startedAt)}`,
    s.finishedAt ? `finished ${escapeHtml(s.finishedAt)}` : '',
  ].filter(Boolean);
  const steps = s.steps
    .map((step) => `<div class="step"><h4>step ${step.index + 1}</h4>${bar('map', step.map, true)}${step.reduce.total > 0 ? bar('reduce', step.reduce, false) : ''}</div>`)
    .join('');
  const counters = Object.entries(s.counters);
  const running = s.running
    .filter((t) => t.status !== undefined)
    .map((t) => `<li>${s.steps.length > 1 ? `step ${t.step + 1} ` : ''}${escapeHtml(t.phase)} ${t.index} attempt ${t.attempt}: ${escapeHtml(t.status ?? '')}</li>`)
    .join('');
  const noWorker =
    s.noWorker && run.outcome === 'running'
      ? `<p class="failure no-worker">No worker serves ${s.noWorker.functions.map((f) => `<code>${escapeHtml(f)}</code>`).join(', ')} since ${escapeHtml(s.noWorker.since)}; the run fails ${Math.round(s.noWorker.timeoutMs / 1000)} s after that unless one comes.</p>`
      : '';
  const messages = s.messages.map((m) => `<li><time>${escapeHtml(m.at)}</time> ${escapeHtml(m.task)}: ${escapeHtml(m.text)}</li>`).join('');
  return [
    `<section class="run ${run.outcome}" data-run="${escapeHtml(s.runId)}" data-outcome="${run.outcome}">`,
    `<h3>${escapeHtml(s.job)} <span class="outcome">${run.outcome}</span></h3>`,
    `<p>${facts.join(' · ')}</p>`,
    noWorker,
    steps,
    running ? `<h4>running tasks</h4><ul class="running">${running}</ul>` : '',
    s.error ? `<h4>failure</h4><pre class="failure">${escapeHtml(s.error)}</pre>` : '',
    run.resume ? `<p class="failure">The driver (pid ${s.driver.pid} on ${escapeHtml(s.driver.host)}) is gone. Resume with: <code>${escapeHtml(run.resume)}</code></p>` : '',
    run.liveError ? `<p class="muted">${escapeHtml(run.liveError)}</p>` : '',
    counters.length > 0 ? `<p>counters: ${counters.map(([k, v]) => `${escapeHtml(k)}=${v}`).join(', ')}</p>` : '',
    messages ? `<h4>latest messages</h4><ul class="messages">${messages}</ul>` : '',
    '</section>',
  ].join('');
}

function renderCluster(cluster: ClusterView): string {
  const servers = cluster.servers
    .map(
      (s) =>
        `<tr class="${s.up ? 'up' : 'down'}"><td><code>${escapeHtml(s.address)}</code></td><td>${s.up ? 'up' : 'down'}</td><td>${escapeHtml(s.version ?? s.error ?? '')}</td><td>${s.workers.length}</td></tr>`,
    )
    .join('');
  const functions = cluster.functions
    .map((f) => `<tr><td><code>${escapeHtml(f.function)}</code></td><td>${f.queued}</td><td>${f.running}</td><td>${f.workers}</td><td>${f.servers.map(escapeHtml).join(', ')}</td></tr>`)
    .join('');
  const workers = cluster.servers
    .flatMap((s) =>
      s.workers.map(
        (w) => `<tr><td><code>${escapeHtml(s.address)}</code></td><td>${escapeHtml(w.ip)}</td><td>${escapeHtml(w.clientId)}</td><td>${w.functions.map((f) => `<code>${escapeHtml(f)}</code>`).join(' ')}</td></tr>`,
      ),
    )
    .join('');
  return [
    '<h2>Job servers</h2>',
    `<table id="servers"><thead><tr><th>server</th><th>state</th><th>version</th><th>workers</th></tr></thead><tbody>${servers}</tbody></table>`,
    '<h2>Functions</h2>',
    `<table id="functions"><thead><tr><th>function</th><th>queued</th><th>running</th><th>workers</th><th>servers</th></tr></thead><tbody>${functions || '<tr><td colspan="5">none</td></tr>'}</tbody></table>`,
    '<h2>Workers</h2>',
    `<table id="workers"><thead><tr><th>server</th><th>ip</th><th>client id</th><th>functions</th></tr></thead><tbody>${workers || '<tr><td colspan="4">none</td></tr>'}</tbody></table>`,
  ].join('');
}

/** The part of the page that changes: sent again on every update. */
export function renderMain(view: DashboardView): string {
  const runs = view.runs.length > 0 ? view.runs.map(renderRun).join('') : '<p class="muted">No runs.</p>';
  const at = view.cluster?.at ?? new Date().toISOString();
  return `<h2>Runs</h2>${runs}${view.cluster ? renderCluster(view.cluster) : ''}<p class="muted">updated <time id="updated">${escapeHtml(at)}</time></p>`;
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:1em 2em;color:#222}code{font-size:90%}
table{border-collapse:collapse;margin-bottom:1em}td,th{border-bottom:1px solid #ddd;padding:2px 10px;text-align:left}
.down td,.failure,.failed .outcome,.abandoned .outcome{color:#b00}.committed .outcome{color:#070}.running .outcome{color:#05a}
.run{border:1px solid #ccc;border-radius:4px;padding:4px 12px;margin-bottom:1em}.bar{display:flex;gap:8px;align-items:center}
.bar span:first-child{width:4em}progress{width:24em}pre.failure{white-space:pre-wrap;background:#fee;padding:6px}.muted{color:#777}`;

const SCRIPT = `const m=document.querySelector('main');const es=new EventSource('events');
es.addEventListener('update',(e)=>{m.innerHTML=JSON.parse(e.data).html});`;

export function renderPage(view: DashboardView): string {
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(view.title)}</title>`,
    '<meta name="viewport" content="width=device-width">',
    '<noscript><meta http-equiv="refresh" content="5"></noscript>',
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(view.title)}</h1>`,
    `<main>${renderMain(view)}</main>`,
    `<script>${SCRIPT}</script>`,
    '</body></html>\n',
  ].join('');
}
