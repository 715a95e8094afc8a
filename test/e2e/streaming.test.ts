/**
 * Streaming jobs through bin/gmr on the embedded default (2 workers, 2 reducers, several splits):
 * the examples/streaming programs (python3, awk, shell, Perl), a `cut | uniq -c` reducer, a
 * map-only grep, a combiner, Hadoop's environment, counters and status in the manifest, a mapper
 * that exits 1 on one record, a command killed at --task-timeout, and bad flags. References come
 * from other programs (python3, or the test's own counting), never from gmr.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateText } from '../helpers/corpus.ts';
import { REPO_ROOT, runGmr } from '../helpers/gmr-cli.ts';

const EXAMPLES = join(REPO_ROOT, 'examples/streaming');
let dir: string;
let input: string;
let files: string[];
/** word -> count over the input, words split on blanks (what str.split(), awk and tr agree on here). */
let counts: Map<string, number>;
let lineCount: number;

const common = ['--workers', '2', '--reducers', '2', '--split-size', '3k', '--quiet'];

function sortedLines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '').sort();
}

/** `word<TAB>count` lines of the reference, sorted as strings. */
function tabbed(): string[] {
  return [...counts].map(([w, n]) => `${w}\t${n}`).sort();
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-streaming-'));
  input = join(dir, 'in');
  mkdirSync(input);
  files = [0, 1, 2].map((i) => {
    const path = join(input, `part-${i}.txt`);
    // No '\r': awk's blanks are space and tab only, while python and tr also split on '\r'.
    writeFileSync(path, `${generateText(100 + i, 300).replace(/\r/g, '')}\n`);
    return path;
  });
  counts = new Map();
  lineCount = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    lineCount += text.split('\n').length - 1;
    for (const word of text.split(/[ \t\n]+/)) if (word !== '') counts.set(word, (counts.get(word) ?? 0) + 1);
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('gmr run --mapper (embedded)', { timeout: 240_000 }, () => {
  it('runs a python3 mapper and reducer; counters and status lines arrive in the manifest', async () => {
    const out = join(dir, 'out-python');
    const r = await runGmr([
      'run',
      '--mapper', `python3 ${join(EXAMPLES, 'wordcount-mapper.py')}`,
      '--reducer', `python3 ${join(EXAMPLES, 'wordcount-reducer.py')}`,
      '--input', input, '--output', out, '--json', ...common,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const parts = ['part-00000', 'part-00001'].map((p) => readFileSync(join(out, p), 'utf8'));
    expect(sortedLines(parts.join(''))).toEqual(tabbed());
    // Each part holds its keys in byte order, as the reducer met them.
    for (const part of parts) {
      const keys = sortedLines(part).map((l) => l.split('\t')[0] as string);
      const inOrder = part.split('\n').filter(Boolean).map((l) => l.split('\t')[0] as string);
      expect(inOrder).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    }
    const manifest = JSON.parse(readFileSync(join(out, '_SUCCESS'), 'utf8')) as {
      counters: Record<string, number>;
      mapTasks: number;
      reduceTasks: number;
      tasks: Array<{ phase: string; status?: string }>;
    };
    expect(manifest.counters['wordcount.lines']).toBe(lineCount);
    expect(manifest.mapTasks).toBeGreaterThanOrEqual(4);
    expect(manifest.reduceTasks).toBe(2);
    const statuses = manifest.tasks.filter((t) => t.phase === 'map').map((t) => t.status ?? '');
    const mapped = statuses.map((s) => Number(/^mapped (\d+) lines$/.exec(s)?.[1]));
    expect(mapped.reduce((a, b) => a + b, 0)).toBe(lineCount);
  });

  it("keeps a command's other stderr lines as the task's log: prefixed on stderr and in _logs/ per attempt", async () => {
    const out = join(dir, 'out-logs');
    // Each map task says which file it maps and one reporter line (a status, not a log line); each reducer says it starts.
    const mapper = `sh -c 'echo "mapping $mapreduce_map_input_file" >&2; echo reporter:status:half >&2; exec python3 ${join(EXAMPLES, 'wordcount-mapper.py')}'`;
    const reducer = `sh -c 'echo "reducing $mapreduce_task_partition" >&2; exec python3 ${join(EXAMPLES, 'wordcount-reducer.py')}'`;
    const r = await runGmr(['run', '--mapper', mapper, '--reducer', reducer, '--input', input, '--output', out, '--workers', '2', '--reducers', '2', '--split-size', '3k']);
    expect(r.code, r.stderr).toBe(0);
    expect(sortedLines(['part-00000', 'part-00001'].map((p) => readFileSync(join(out, p), 'utf8')).join(''))).toEqual(tabbed());
    const manifest = JSON.parse(readFileSync(join(out, '_SUCCESS'), 'utf8')) as {
      runId: string;
      tasks: Array<{ phase: string; index: number; input?: string; attempts: Array<{ log?: { path?: string } }> }>;
    };
    const maps = manifest.tasks.filter((t) => t.phase === 'map');
    expect(maps.length).toBeGreaterThanOrEqual(4);
    for (const task of manifest.tasks) {
      const path = task.attempts[0]?.log?.path;
      expect(path).toBe(`_logs/${manifest.runId}/${task.phase}-${String(task.index).padStart(5, '0')}-attempt-1.log`);
      const file = (task.input ?? '').replace(/@.*$/, '');
      const line = task.phase === 'map' ? `mapping ${file}` : `reducing ${task.index}`;
      expect(readFileSync(join(out, path as string), 'utf8')).toBe(`${line}\n`);
      expect(r.stderr.split('\n')).toContain(`[${task.phase} ${task.index} attempt 1] ${line}`);
    }
    expect(r.stderr).not.toContain('reporter:status');
  });

  it("runs an awk mapper with a `cut -f1 | uniq -c` reducer (a shell the user asked for)", async () => {
    const r = await runGmr(['run', '--mapper', `awk -f ${join(EXAMPLES, 'wordcount-mapper.awk')}`, '--reducer', "sh -c 'cut -f1 | uniq -c'", '--input', input, ...common]);
    expect(r.code, r.stderr).toBe(0);
    // uniq -c prints the count right-aligned in 7 columns, a space, then the line.
    expect(sortedLines(r.stdout)).toEqual([...counts].map(([w, n]) => `${String(n).padStart(7)} ${w}`).sort());
  });

  it('runs the shell mapper and reducer, and the Perl reducer also as combiner', async () => {
    const shell = await runGmr(['run', '--mapper', `sh ${join(EXAMPLES, 'wordcount-mapper.sh')}`, '--reducer', `sh ${join(EXAMPLES, 'wordcount-reducer.sh')}`, '--input', input, ...common]);
    expect(shell.code, shell.stderr).toBe(0);
    expect(sortedLines(shell.stdout)).toEqual(tabbed());
    const perl = `perl ${join(EXAMPLES, 'wordcount-reducer.pl')}`;
    const combined = await runGmr(['run', '--mapper', `python3 ${join(EXAMPLES, 'wordcount-mapper.py')}`, '--combiner', perl, '--reducer', perl, '--input', input, ...common]);
    expect(combined.code, combined.stderr).toBe(0);
    expect(sortedLines(combined.stdout)).toEqual(tabbed());
  });

  it('runs grep as a map-only job: the output is the matching lines, in input order', async () => {
    const r = await runGmr(['run', '--mapper', 'grep -i gearman', '--input', input, ...common]);
    expect(r.code, r.stderr).toBe(0);
    const script = 'import sys\nfor p in sys.argv[1:]:\n  for l in open(p, encoding="utf-8"):\n    if "gearman" in l.lower(): sys.stdout.write(l)';
    expect(r.stdout).toBe(execFileSync('python3', ['-c', script, ...files], { encoding: 'utf8' }));
  });

  it("gives the command Hadoop's environment: input file, start, length and task partition", async () => {
    const echo = 'sh -c \'echo "$mapreduce_map_input_file@$mapreduce_map_input_start+$mapreduce_map_input_length $mapreduce_task_partition $GMR_PHASE"; cat >/dev/null\'';
    const r = await runGmr(['run', '--mapper', echo, '--input', input, '--json', ...common]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stderr.trim().split('\n').pop() as string) as { tasks: Array<{ index: number; input: string }> };
    expect(sortedLines(r.stdout)).toEqual(summary.tasks.map((t) => `${t.input} ${t.index} map`).sort());
    expect(summary.tasks.length).toBeGreaterThanOrEqual(4);
  });

  it("gives every map and reduce command the task's and attempt's names, Hadoop's and gmr's", async () => {
    const vars = 'mapreduce_job_id mapreduce_task_id mapreduce_task_attempt_id mapreduce_task_ismap mapreduce_task_partition mapreduce_job_reduces mapreduce_map_input_file GMR_RUN_ID GMR_JOB GMR_PHASE GMR_TASK GMR_ATTEMPT GMR_SPLIT';
    // Each command prints one line of `name=value` fields (`-` for an unset variable); the map lines pass the reducer as keys.
    const fields = vars.split(' ').map((v) => `${v}=\${${v}:--}`).join(' ');
    const r = await runGmr(['run', '--mapper', `sh -c 'cat >/dev/null; echo "${fields}"'`, '--reducer', `sh -c 'cat; echo "${fields}"'`, '--input', input, '--json', ...common]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stderr.trim().split('\n').pop() as string) as { runId: string; tasks: Array<{ phase: string; index: number; input?: string }> };
    const seen = sortedLines(r.stdout).map((line) => Object.fromEntries(line.trim().split(' ').map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)])));
    const run = summary.runId;
    const pad = (n: number): string => String(n).padStart(6, '0');
    const expected = summary.tasks.map((t) =>
      t.phase === 'map'
        ? { phase: 'map', kind: 'm', task: t.index, ismap: 'true', file: t.input?.slice(0, t.input.lastIndexOf('@')), split: t.input }
        : { phase: 'reduce', kind: 'r', task: t.index, ismap: 'false', file: '-', split: '-' },
    );
    expect(expected.filter((e) => e.phase === 'reduce').map((e) => e.task).sort()).toEqual([0, 1]);
    expect(expected.filter((e) => e.phase === 'map').length).toBeGreaterThanOrEqual(4);
    expect(seen).toHaveLength(expected.length);
    const byPhaseTask = (e: { GMR_PHASE?: string; GMR_TASK?: string }): string => `${e.GMR_PHASE} ${e.GMR_TASK}`;
    for (const e of expected) {
      const got = seen.find((s) => byPhaseTask(s) === `${e.phase} ${e.task}`);
      const attempt = got?.['GMR_ATTEMPT'] ?? '';
      expect(attempt).toMatch(/^[0-9a-f]{12}$/);
      expect(got).toEqual({
        mapreduce_job_id: run,
        mapreduce_task_id: `task_${run}_${e.kind}_${pad(e.task)}`,
        mapreduce_task_attempt_id: `attempt_${run}_${e.kind}_${pad(e.task)}_${attempt}`,
        mapreduce_task_ismap: e.ismap,
        mapreduce_task_partition: String(e.task),
        mapreduce_job_reduces: '2',
        mapreduce_map_input_file: e.file,
        GMR_RUN_ID: run,
        GMR_JOB: got?.['GMR_JOB'],
        GMR_PHASE: e.phase,
        GMR_TASK: String(e.task),
        GMR_ATTEMPT: attempt,
        GMR_SPLIT: e.split,
      });
      expect(got?.['GMR_JOB']).toMatch(/^stream-[0-9a-f]+$/);
    }
  });

  it('fails the run when a mapper exits 1 on one record, with its exit status and stderr tail', async () => {
    const poisoned = join(dir, 'poisoned');
    mkdirSync(poisoned);
    for (const [i, file] of files.entries()) writeFileSync(join(poisoned, `p${i}.txt`), readFileSync(file));
    writeFileSync(join(poisoned, 'p1.txt'), `${readFileSync(files[1] as string, 'utf8')}POISON here\nmore\n`);
    const script = 'import sys\nfor l in sys.stdin:\n  if l.startswith("POISON"):\n    print("cannot map: " + l.strip(), file=sys.stderr); sys.exit(1)\n  print(l.split()[0] if l.split() else "", "1", sep="\\t")';
    const r = await runGmr(['run', '--mapper', `python3 -c '${script}'`, '--reducer', 'cat', '--input', poisoned, '--max-attempts', '2', '--json', ...common]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('gmr:'))).toHaveLength(1);
    const failure = JSON.parse(r.stderr.trim().split('\n').filter((l) => l.startsWith('{')).pop() as string) as { ok: boolean; error: string; tasks: Array<{ attempts: Array<{ error?: string }> }> };
    expect(failure.ok).toBe(false);
    expect(failure.error).toMatch(/map task \d+ failed on .*p1\.txt@\d+\+\d+: mapper "python3 -c 'import sys\\nfor l in sys.stdin:\\n .*" exited with code 1; stderr ends: cannot map: POISON here$/);
    expect(failure.error).not.toContain('\n');
    const failed = failure.tasks.find((t) => t.attempts.some((a) => a.error !== undefined));
    expect(failed?.attempts.length).toBe(2);
  });

  it('kills a command that makes no progress at --task-timeout, leaving no process behind', async () => {
    const pids = join(dir, 'pids.txt');
    const r = await runGmr(['run', '--mapper', `sh -c 'echo $$ >> ${pids}; exec sleep 600'`, '--input', files[0] as string, '--task-timeout', '2', '--max-attempts', '1', ...common]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no progress/);
    const started = readFileSync(pids, 'utf8').split('\n').filter(Boolean);
    expect(started.length).toBeGreaterThanOrEqual(1);
    for (const pid of started) expect(existsSync(`/proc/${pid}`), `pid ${pid}`).toBe(false);
  });

  it('refuses bad streaming flags with one line each', async () => {
    const piped = await runGmr(['run', '--mapper', 'cut -f1 | sort', '--input', input]);
    expect(piped.code).toBe(64);
    expect(piped.stderr.trim()).toBe(`gmr: --mapper "cut -f1 | sort": expected a program and its arguments, received an unquoted |; gmr runs no shell: to use one, ask for it: --mapper "sh -c 'cut -f1 | sort'"`);
    const both = await runGmr(['run', 'wordcount', '--mapper', 'cat', '--input', input]);
    expect(both.code).toBe(64);
    expect(both.stderr).toContain('takes no <job>');
    const stray = await runGmr(['run', 'wordcount', '--reducer', 'cat', '--input', input]);
    expect(stray.code).toBe(64);
    expect(stray.stderr).toContain('--reducer is for streaming jobs: give --mapper CMD too');
  });
});
