/**
 * The dashboard in a real browser: Debian's headless chromium driven by playwright-core (no
 * browser download). During a run on a real gearmand with two `gmr worker`s, `gmr run --ui` shows
 * the run's functions with their workers and a map progress bar that advances between two reads
 * (a screenshot is saved); `gmr dashboard --runs` shows a failed run's report; without
 * JavaScript the page is still readable.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runGmr } from '../helpers/gmr-cli.ts';
import { useGearmand } from '../helpers/gearmand.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Harness, SLOW_JOB, exitOf, slowCorpus, waitForWorkers, type Proc } from '../helpers/harness.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const gearmand = useGearmand();
const h = new Harness();
let browser: Browser;

beforeAll(async () => {
  if (!CHROMIUM) throw new Error('chromium is not installed: apt-get install -y chromium (.ci/run does this)');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
});
afterAll(async () => browser?.close());
afterEach(() => h.cleanup());

/** The URL a gmr process prints on stderr once its page is up. */
async function pageUrl(proc: Proc): Promise<string> {
  let url: string | undefined;
  await waitFor(() => (url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(proc.stderr())?.[1]) !== undefined, 'the page URL on stderr', 60_000);
  return url as string;
}

async function mapBar(page: Page): Promise<{ value: number; max: number }> {
  const value = await page.getAttribute('progress[data-phase="map"]', 'value');
  const max = await page.getAttribute('progress[data-phase="map"]', 'max');
  return { value: Number(value ?? -1), max: Number(max ?? -1) };
}

describe('the dashboard in headless chromium', () => {
  it('gmr run --ui: the functions table shows the run functions with workers; the progress bar advances', async () => {
    const dir = h.tempDir();
    const input = slowCorpus(dir);
    for (let i = 0; i < 2; i++) h.gmr(['worker', '--servers', gearmand.address, '--jobs', SLOW_JOB, '--input-root', dir, '--quiet']);
    await waitForWorkers(gearmand.address, ['gmr.map.slow-wordcount', 'gmr.reduce.slow-wordcount'], 2);
    const run = h.gmr(['run', SLOW_JOB, '--input', input.dir, '--output', join(dir, 'out'), '--servers', gearmand.address, '--reducers', '2', '--split-size', '2k', '--param', 'mapSleepMs=8', '--quiet', '--ui', '0']);
    const page = await browser.newPage();
    await page.goto(await pageUrl(run));
    // The functions table lists the run's functions, each with the 2 workers.
    await page.waitForSelector('progress[data-phase="map"]', { timeout: 60_000 });
    const rows = await page.$$eval('#functions tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    for (const fn of ['gmr.map.slow-wordcount', 'gmr.reduce.slow-wordcount']) {
      const row = rows.find((r) => r[0] === fn);
      expect(row, JSON.stringify(rows)).toBeDefined();
      expect(Number(row?.[3])).toBe(2);
    }
    // Two reads of the map bar while the run goes on: the second is further (no reload: SSE).
    const first = await mapBar(page);
    await page.waitForFunction(`Number(document.querySelector('progress[data-phase="map"]').getAttribute('value')) > ${first.value}`, undefined, { timeout: 90_000, polling: 100 });
    const second = await mapBar(page);
    expect(second.value).toBeGreaterThan(first.value);
    expect(second.max).toBe(first.max);
    expect(await page.textContent('.run .outcome')).toBe('running');
    const shot = join(dir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    if (process.env['GMR_SCREENSHOT']) writeFileSync(process.env['GMR_SCREENSHOT'], await page.screenshot({ fullPage: true }));
    expect((await exitOf(run, 120_000)).code, run.stderr()).toBe(0);
  }, 180_000);

  it('gmr dashboard --runs: a failed run shows its report; without JavaScript the page still reads', async () => {
    const dir = h.tempDir();
    const boom = join(dir, 'boom.txt');
    writeFileSync(boom, 'fine\nboom here\nfine\n');
    const out = join(dir, 'out');
    const failed = await runGmr(['run', join(REPO_ROOT, 'test/fixtures/jobs/throws.ts'), '--input', boom, '--output', out, '--max-attempts', '1', '--workers', '2', '--reducers', '2', '--quiet']);
    expect(failed.code).toBe(1);
    const dashboard = h.gmr(['dashboard', '--runs', out, '--servers', gearmand.address, '--port', '0']);
    const url = await pageUrl(dashboard);
    const page = await browser.newPage();
    await page.goto(url);
    expect(await page.getAttribute('.run', 'data-outcome')).toBe('failed');
    expect(await page.textContent('.run pre.failure')).toContain('exploded on "boom here"');

    const plain = await browser.newContext({ javaScriptEnabled: false });
    const still = await plain.newPage();
    await still.goto(url);
    expect(await still.textContent('.run pre.failure')).toContain('exploded on "boom here"');
    expect(await still.$$eval('#servers tbody tr td', (tds) => tds.map((td) => td.textContent))).toContain('up');
    await plain.close();
  }, 120_000);
});
