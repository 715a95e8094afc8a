/**
 * --notify URL and --on-exit CMD against a local HTTP receiver this test starts: the JSON summary
 * arrives for a committed and for a failed run, a receiver that answers 503 is tried again, and a
 * receiver or command that fails changes neither the exit code nor the output.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCorpus } from '../helpers/corpus.ts';
import { freePort } from '../helpers/gearmand.ts';
import { REPO_ROOT, runGmr } from '../helpers/gmr-cli.ts';
import { referenceWordcount } from '../helpers/reference.ts';

interface Received {
  method: string;
  type: string | undefined;
  body: string;
}

/** Answers each POST with the next status of `answers` (the last one repeats). */
async function receiver(answers: number[]): Promise<{ url: string; got: Received[]; close: () => Promise<void> }> {
  const got: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      got.push({ method: req.method ?? '', type: req.headers['content-type'], body });
      res.statusCode = answers[Math.min(got.length - 1, answers.length - 1)] ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}/hook`, got, close: () => new Promise((r) => server.close(() => r())) };
}

const THROWS = join(REPO_ROOT, 'test/fixtures/jobs/throws.ts');
let dir: string;
let input: string;
let expected: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmr-notify-'));
  const files = writeCorpus(join(dir, 'in'), 5, 200);
  input = join(dir, 'in');
  expected = referenceWordcount(files);
  writeFileSync(join(dir, 'boom.txt'), 'fine\nboom here\nfine\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = ['--workers', '2', '--reducers', '2', '--split-size', '2k', '--quiet'];

describe('--notify URL', () => {
  it('POSTs the JSON summary of a committed run (after a 503, tried again); exit 0 and the output as usual', async () => {
    const hook = await receiver([503, 200]);
    try {
      const out = join(dir, 'out-ok');
      const r = await runGmr(['run', 'wordcount', '--input', input, '--output', out, '--json', '--notify', hook.url, ...base]);
      expect(r.code, r.stderr).toBe(0);
      expect(hook.got).toHaveLength(2);
      const summary = JSON.parse(r.stdout) as { ok: boolean; job: string; runId: string; mapTasks: number };
      for (const post of hook.got) {
        expect(post.method).toBe('POST');
        expect(post.type).toBe('application/json');
        expect(JSON.parse(post.body)).toEqual(summary);
      }
      expect(summary).toMatchObject({ ok: true, job: 'wordcount' });
      expect(summary.mapTasks).toBeGreaterThanOrEqual(2);
      const parts = readdirSync(out).filter((e) => e.startsWith('part-')).sort();
      const text = parts.map((p) => readFileSync(join(out, p), 'utf8')).join('');
      expect(text.split('\n').filter(Boolean).sort()).toEqual(expected.split('\n').filter(Boolean).sort());
    } finally {
      await hook.close();
    }
  });

  it('POSTs {ok:false, error} when the run fails; the exit code stays 1', async () => {
    const hook = await receiver([200]);
    try {
      const r = await runGmr(['run', THROWS, '--input', join(dir, 'boom.txt'), '--max-attempts', '1', '--notify', hook.url, ...base]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('exploded on "boom here"');
      expect(hook.got).toHaveLength(1);
      const body = JSON.parse(hook.got[0]?.body ?? '') as { ok: boolean; error: string; code: string };
      expect(body.ok).toBe(false);
      expect(body.code).toBe('GMR_ERR_RUN');
      expect(body.error).toContain('exploded on "boom here"');
    } finally {
      await hook.close();
    }
  });

  it('a receiver that is not there: three tries, one line on stderr, exit 0 and the whole result on stdout', async () => {
    const port = await freePort();
    const r = await runGmr(['run', 'wordcount', '--input', input, '--notify', `http://127.0.0.1:${port}/x`, ...base]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expected);
    expect(r.stderr).toMatch(/--notify http:\/\/127\.0\.0\.1:\d+\/x: not delivered after 3 tries/);
  });

  it('a receiver that answers 404 is not tried again', async () => {
    const hook = await receiver([404]);
    try {
      const r = await runGmr(['run', 'wordcount', '--input', input, '--notify', hook.url, ...base]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(expected);
      expect(hook.got).toHaveLength(1);
      expect(r.stderr).toContain('not delivered after 1 try: HTTP 404');
    } finally {
      await hook.close();
    }
  });

  it('a URL that is not http(s) is a usage error before anything runs', async () => {
    const r = await runGmr(['run', 'wordcount', '--input', input, '--notify', 'ftp://example/x', ...base]);
    expect(r.code).toBe(64);
    expect(r.stderr.trim()).toBe('gmr: --notify expects an http:// or https:// URL, received "ftp://example/x" (protocol ftp:)');
    expect(r.stdout).toBe('');
  });
});

describe('--on-exit CMD', () => {
  it('runs the command with the summary on stdin and the outcome in its env, for success and failure', async () => {
    const got = join(dir, 'on-exit.json');
    const env = join(dir, 'on-exit.env');
    const cmd = `cat > '${got}'; echo "$GMR_EXIT_CODE $GMR_OUTCOME" > '${env}'`;
    const ok = await runGmr(['run', 'wordcount', '--input', input, '--json', '--on-exit', cmd, ...base]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(expected);
    expect(JSON.parse(readFileSync(got, 'utf8'))).toEqual(JSON.parse(ok.stderr));
    expect(readFileSync(env, 'utf8')).toBe('0 committed\n');

    const bad = await runGmr(['run', THROWS, '--input', join(dir, 'boom.txt'), '--max-attempts', '1', '--on-exit', cmd, ...base]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(readFileSync(got, 'utf8'))).toMatchObject({ ok: false, code: 'GMR_ERR_RUN' });
    expect(readFileSync(env, 'utf8')).toBe('1 failed\n');
  });

  it('a command that fails is reported and changes nothing: exit 0, the result on stdout', async () => {
    const r = await runGmr(['run', 'wordcount', '--input', input, '--on-exit', 'echo from-hook >&2; exit 7', ...base]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expected);
    expect(r.stderr).toContain('from-hook');
    expect(r.stderr).toContain('--on-exit "echo from-hook >&2; exit 7" exited with code 7; the run\'s exit code stays 0');
  });
});
