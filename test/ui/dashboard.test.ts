import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../../dashboards/web/build';
import type { ControlPlane } from '@kumo/local';
import { startTestControlPlane } from '../support/control-plane';
import type { client } from '../support/http';
import { checkpointTrainer, stepScorer } from '../support/toy-training';
import { waitFor } from '../support/wait';
import { launchChromium } from './browser';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');

/** "30,000" -> 30000: the page shows locale-formatted numbers (the context pins en-US). */
/** Polls until the expectation holds; 10 s unless told, since two cores are shared with other suites. */
const eventually = <T>(fn: () => Promise<T> | T, timeout = 10_000) => expect.poll(fn, { timeout, interval: 100 });

const num = (text: string | null): number => Number((text ?? '').replace(/[^\d]/g, ''));

describe('the web dashboard, in headless Chromium', () => {
  let cp: ControlPlane;
  let api: ReturnType<typeof client>;
  let token: string;
  let stop: (() => Promise<void>) | undefined;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  /** A fresh tab, signed in through sessionStorage as a returning user would be. */
  async function signedInPage(viewport = { width: 1280, height: 860 }): Promise<Page> {
    const ctx = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'Asia/Tokyo' });
    // A locator call blocks until its element exists; bounded, so a missing element fails the poll around it.
    ctx.setDefaultTimeout(10_000);
    contexts.push(ctx);
    await ctx.addInitScript((t) => sessionStorage.setItem('kumo.token', t), token);
    return ctx.newPage();
  }

  beforeAll(async () => {
    // The test serves what the source says now, not a bundle left over from an older build.
    const [plane, b] = await Promise.all([
      buildWeb().then(() =>
        startTestControlPlane('ui', {
          localPool: { max: 2, slotsPerVm: 16, idleTimeoutSeconds: 30 },
          workerEnv: { KUMO_DRAIN_MS: '2000' },
        }),
      ),
      launchChromium(),
    ]);
    ({ cp, api, token, stop } = plane);
    browser = b;
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await stop?.();
  });

  it('serves the page and its assets without a token, with the right types, and keeps them out of OpenAPI', async () => {
    const index = await fetch(`${cp.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await fetch(`${cp.url}/ui/app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${cp.url}/ui/styles.css`)).headers.get('content-type')).toMatch(/^text\/css/);
    expect((await fetch(`${cp.url}/ui/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${cp.url}/v1/jobs`)).status).toBe(401);
    const paths = Object.keys((await api.get('/openapi.json')).body.paths);
    expect(paths.filter((p) => p === '/' || p.startsWith('/ui'))).toEqual([]);
  });

  it('takes a token from #token=, strips it from the URL, and says plainly when a token is wrong', async () => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    contexts.push(ctx);
    const page = await ctx.newPage();
    await page.goto(`${cp.url}/#token=${token}`);
    await eventually(() => page.locator('h1').textContent()).toBe('Jobs');
    expect(page.url()).not.toContain(token);
    expect(await page.evaluate(() => sessionStorage.getItem('kumo.token'))).toBe(token);

    const bad = await (await browser.newContext({ locale: 'en-US' })).newPage();
    contexts.push(bad.context());
    await bad.goto(`${cp.url}/#token=not-a-real-token`);
    const message = bad.locator('.login-message');
    await eventually(() => message.textContent()).toContain('token in the link was not accepted');
    expect(bad.url()).not.toContain('not-a-real-token');
    expect(await bad.evaluate(() => sessionStorage.getItem('kumo.token'))).toBeNull();

    // Typed into the form, a wrong token is refused with the API's own reason, and nothing is kept.
    await bad.fill('#token', 'still-wrong');
    await bad.click('button[type=submit]');
    await eventually(() => message.textContent()).toContain(
      'That token was not accepted: unknown, revoked or expired token',
    );
    expect(await bad.evaluate(() => sessionStorage.getItem('kumo.token'))).toBeNull();
  });

  it('the jobs list shows a running 90,000-batch job counting up live, without a reload', async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'cc-main-2023-50-ja',
      source: { snapshot: 'CC-MAIN-2023-50', batches: 90000 },
      pool: 'local',
      run: { builtin: 'sleep', ms: 50 },
    });
    expect(sub.status).toBe(201);
    const id: string = sub.body.id;
    try {
      const page = await signedInPage();
      const foreign: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(cp.url) && !r.url().startsWith('data:')) foreign.push(r.url());
      });
      await page.goto(`${cp.url}/#/jobs`);
      const row = page.locator(`.job-row[data-id="${id}"]`);
      const succeeded = row.locator('.count-succeeded');
      await eventually(async () => num(await succeeded.textContent()), 30_000).toBeGreaterThan(0);
      // A reload would drop this marker; it must survive both reads.
      await page.evaluate(() => ((window as unknown as { kumoMarker: number }).kumoMarker = 1));
      const first = num(await succeeded.textContent());
      await eventually(async () => num(await succeeded.textContent()), 15_000).toBeGreaterThan(first + 100);
      expect(await page.evaluate(() => (window as unknown as { kumoMarker?: number }).kumoMarker)).toBe(1);

      expect(await row.locator('.badge').textContent()).toBe('running');
      expect(await row.locator('.job-kind').textContent()).toContain('extraction');
      // "30,000 / 90,000 batches · 33 % · 412/min · ETA Tue 14:00"
      await eventually(() => row.locator('.progress-line').textContent()).toMatch(
        /^[\d,]+ \/ 90,000 batches · [\d.]+ % · [\d,.]+\/min · ETA (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d:\d\d$/,
      );
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-jobs.png'), fullPage: true });

      // The filters go through the API: a kind this job is not hides it.
      await page.selectOption('select[name=kind]', 'training');
      await eventually(() => page.locator('.empty').textContent()).toContain('No jobs match');
      await page.selectOption('select[name=kind]', 'extraction');
      await eventually(() => row.count()).toBe(1);

      // Its job page: the numbers keep climbing there too, and the chart draws from the stream.
      await row.locator('.job-name').click();
      await eventually(() => page.locator('.job-title h1').textContent()).toBe('cc-main-2023-50-ja');
      const tile = page.locator('.stat-succeeded .stat-value');
      const onPage = num(await tile.textContent());
      await eventually(async () => num(await tile.textContent()), 15_000).toBeGreaterThan(onPage);
      // Both charts have a line of several points, drawn from the SSE events since the page opened.
      await eventually(async () =>
        (
          await page
            .locator('.chart-line')
            .evaluateAll((ps) => ps.map((p) => (p.getAttribute('d') ?? '').split('L').length))
        ).every((n) => n >= 3),
      ).toBe(true);
      expect(await page.locator('.chart-line').count()).toBe(2);
      expect(await page.locator('.stat-eta .stat-value').textContent()).toMatch(
        /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d:\d\d$/,
      );
      await page.waitForTimeout(2500); // a few more points, so the screenshot shows a line, not a dot
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-job.png'), fullPage: true });

      const phone = await signedInPage({ width: 390, height: 844 });
      await phone.goto(`${cp.url}/#/jobs`);
      await eventually(() => phone.locator(`.job-row[data-id="${id}"] .progress-line`).textContent()).toContain(
        '90,000 batches',
      );
      await phone.screenshot({ path: join(ARTIFACTS, 'dashboard-jobs-phone.png') });

      await page.goto(`${cp.url}/#/pools`);
      await eventually(() => page.locator('.pool[data-pool="local"] .vms tbody tr').count()).toBeGreaterThan(0);
      expect(await page.locator('.pool[data-pool="local"] .reasons li').count()).toBeGreaterThan(0);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-pools.png'), fullPage: true });

      expect(foreign).toEqual([]);
    } finally {
      await api.post(`/v1/jobs/${id}/cancel`);
    }
  });

  it("the pools page shows the month's spend against the team's monthly budget, and each user's spend", async () => {
    expect((await api.put('/v1/team/budget', { maxCostUsd: 250 })).status).toBe(200);
    try {
      const spend = (await api.get('/v1/spend?by=user')).body as { month: string; totalUsd: number };
      const page = await signedInPage();
      await page.goto(`${cp.url}/#/pools`);
      const budget = page.locator('.spend [data-stat="team-budget"]');
      await eventually(() => budget.locator('.stat-value').textContent()).toBe('$250');
      expect(await page.locator('.spend [data-stat="month-spend"] .stat-label').textContent()).toBe(
        `spent in ${spend.month}`,
      );
      expect(await budget.locator('.stat-sub').textContent()).toMatch(/% used · \$[\d,.]+ left$/);
      expect(Number(await page.locator('.spend meter.budget-bar').getAttribute('value'))).toBeCloseTo(
        spend.totalUsd / 250,
        3,
      );
    } finally {
      await api.put('/v1/team/budget', { maxCostUsd: null });
    }
  });

  it('the job page of a failed job shows the failed task with its error code and log tail', async () => {
    const name = '<img src=x onerror="window.pwned=1">boom';
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name,
      source: { snapshot: 'CC-MAIN-2023-50', batches: 1 },
      pool: 'local',
      retry: { maxAttempts: 1 },
      run: { command: ['sh', '-c', 'echo boom >&2; exit 2'] },
    });
    expect(sub.status).toBe(201);
    const page = await signedInPage();
    await page.goto(`${cp.url}/#/jobs/${sub.body.id}`);
    await eventually(() => page.locator('.job-title .badge').textContent(), 30_000).toBe('failed');
    const task = page.locator('.tasks .task-row').first();
    await eventually(() => task.locator('.error-code').textContent(), 10_000).toBe('TASK_EXIT_NONZERO');
    expect(await task.locator('.error-message').textContent()).toBe('task exited with code 2');
    const tail = page.locator('.tasks .log-tail').first();
    expect(await tail.isVisible()).toBe(false);
    await page.locator('.tasks .log summary').first().click();
    expect(await tail.isVisible()).toBe(true);
    expect(await tail.textContent()).toContain('boom');
    // The row's "log" button shows the task's whole log below.
    await task.locator('.show-log').click();
    await eventually(() => page.locator('pre.task-log').textContent()).toBe('boom\n');
    await eventually(() => page.locator('.task-log-status').textContent()).toBe('task 0, attempt 1: ended');
    // The name is shown as text: markup in data never becomes elements, let alone runs.
    expect(await page.locator('.job-title h1').textContent()).toBe(name);
    expect(await page.locator('.job-title h1 img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('.meta [data-field=reason]').textContent()).toBe('TOO_MANY_FAILED_TASKS');
    expect(await page.locator('[data-action=cancel]').isVisible()).toBe(false);
    await page.evaluate(() => window.scrollTo(0, 0)); // else the sticky header lands mid-page in a full-page shot
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-job-failed.png'), fullPage: true });
  });

  it('a job page shows skipped tasks in its headline and who did the tasks, and reruns the failed ones as a new job', async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'skip-and-rerun',
      source: { snapshot: 'CC-MAIN-2023-50', batches: 6 },
      pool: 'local',
      retry: { maxAttempts: 1 },
      failurePolicy: { maxFailedTasks: 6 },
      skip: { ranges: [[0, 2]] },
      run: { command: ['sh', '-c', '[ "$KUMO_TASK_INDEX" != 3 ]'] },
    });
    expect(sub.status).toBe(201);
    const page = await signedInPage();
    await page.goto(`${cp.url}/#/jobs/${sub.body.id}`);
    await eventually(() => page.locator('.job-title .badge').textContent(), 30_000).toBe('succeeded');
    await eventually(() => page.locator('.progress-line').textContent()).toContain('6 / 6 batches (2 skipped)');
    const rows = page.locator('.contributors-table .contributor-row');
    await eventually(async () =>
      (await rows.locator('td:nth-child(3)').allTextContents()).reduce((n, t) => n + num(t), 0),
    ).toBe(3);
    expect((await rows.locator('td:nth-child(4)').allTextContents()).reduce((n, t) => n + num(t), 0)).toBe(1);
    expect(new Set(await rows.locator('td:nth-child(2)').allTextContents())).toEqual(new Set(['local']));
    expect(await page.locator('[data-action=rerun-unfinished]').isVisible()).toBe(true);
    await page.locator('[data-action=rerun-failed]').click();
    // The new job's page opens: one task, task 3, which fails again.
    await eventually(() => page.locator('.meta [data-field="rerun of"]').textContent(), 10_000).toBe(sub.body.id);
    await eventually(() => page.locator('.job-title .badge').textContent(), 30_000).toBe('succeeded');
    await eventually(() => page.locator('.progress-line').textContent()).toContain('1 / 1 batches');
    await eventually(() => page.locator('.tasks .task-row').first().getAttribute('data-index')).toBe('3');

    // The original, ended, is deleted from its page (asked first): back to the list, and the id is gone.
    await page.goto(`${cp.url}/#/jobs/${sub.body.id}`);
    await eventually(() => page.locator('[data-action=delete]').isVisible()).toBe(true);
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.accept();
    });
    await page.locator('[data-action=delete]').click();
    await eventually(() => page.evaluate(() => location.hash)).toBe('#/jobs');
    expect(asked[0]).toContain(sub.body.id);
    expect((await api.get(`/v1/jobs/${sub.body.id}`)).status).toBe(404);
  });

  it("a running task's log is followed live on its job's page, to the task's end", async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'ticking',
      source: { snapshot: 'CC-MAIN-2023-50', batches: 1 },
      pool: 'local',
      run: { command: ['sh', '-c', 'for i in $(seq 1 20); do echo "tick $i"; sleep 0.3; done; echo finished >&2'] },
    });
    expect(sub.status).toBe(201);
    const id = sub.body.id as string;
    const page = await signedInPage();
    await page.goto(`${cp.url}/#/jobs/${id}`);
    // Task 0 is the default choice; the log is asked for before the task has printed anything.
    await page.locator('[data-action=show-log]').click();
    const log = page.locator('pre.task-log');
    await eventually(() => log.textContent(), 30_000).toContain('tick 1\n');
    // The first lines are on the page while the task still runs (it prints for 6 s)...
    expect((await api.get(`/v1/jobs/${id}`)).body.state).toBe('running');
    expect(await page.locator('.task-log-status').textContent()).toBe('task 0, attempt 1: following…');
    // ...and the rest arrive without asking again, until the task ends.
    await eventually(() => page.locator('.task-log-status').textContent(), 30_000).toBe('task 0, attempt 1: ended');
    const lines = (await log.textContent())!.split('\n');
    expect(lines.filter((l) => l.startsWith('tick '))).toEqual(Array.from({ length: 20 }, (_, i) => `tick ${i + 1}`));
    expect(lines).toContain('finished');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-task-log.png'), fullPage: true });
  });

  it('an evaluation job’s page shows its results, one row per checkpoint and benchmark', async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'evaluation',
      name: 'llm-jp-1b-eval',
      checkpoints: ['gs://ckpt/1b/step-1000', 'gs://ckpt/1b/step-2000'],
      benchmarks: ['jglue-jcommonsenseqa', 'llm-jp-eval'],
      pool: 'local',
      run: { command: ['sh', '-c', 'echo "::kumo::result {\\"score\\": 0.$((KUMO_TASK_INDEX + 5))}"'] },
    });
    expect(sub.status).toBe(201);
    const page = await signedInPage();
    await page.goto(`${cp.url}/#/jobs/${sub.body.id}`);
    await eventually(() => page.locator('.job-title .badge').textContent(), 30_000).toBe('succeeded');
    const rows = page.locator('table.results tbody tr');
    await eventually(() => rows.count()).toBe(4);
    expect(await page.locator('table.results thead th').allTextContents()).toEqual([
      'task',
      'checkpoint',
      'benchmark',
      'score',
      'worker',
      'at',
    ]);
    // Task 3 is the second checkpoint's second benchmark (benchmark-major, as the catalog cuts them).
    const cells = await page.locator('table.results tr[data-index="3"] td').allTextContents();
    expect(cells.slice(0, 4)).toEqual(['3', 'gs://ckpt/1b/step-2000', 'llm-jp-eval', '0.8']);
    expect(cells[4]).toMatch(/^kumo-local-/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-job-results.png'), fullPage: true });
  });

  it('a training job’s page shows its checkpoints’ scores as their evaluation jobs report them, each linked', async () => {
    // Checkpoints at steps 10 and 20 (a file each); each is scored on two benchmarks by its own job.
    const sub = await api.post('/v1/jobs', {
      kind: 'training',
      name: 'ja-0.3b',
      model: { name: 'ja-0.3b' },
      target: { steps: 20 },
      pool: 'local',
      run: { command: ['python3', '-c', checkpointTrainer([10, 20])] },
      evaluate: {
        benchmarks: ['jglue-mini', 'ja-bpc'],
        run: { command: ['python3', '-c', stepScorer(100, { 'ja-bpc': 0.5 })] },
      },
    });
    expect(sub.status).toBe(201);
    const page = await signedInPage();
    // The page's first read of the evaluations fails (as one can on a busy API): the page says so in
    // place of the table and reads again, rather than leave the error there for good.
    let failFirst = true;
    await page.route('**/evaluations', (route) => {
      if (!failFirst) return route.continue();
      failFirst = false;
      return route.abort('connectionreset');
    });
    await page.goto(`${cp.url}/#/jobs/${sub.body.id}`);
    const rows = page.locator('table.evaluations tbody tr');
    // Filled in as the evaluation jobs finish, without a reload. The page renders the table anew on each
    // read while an evaluation is open, so the header, the scores and the states are taken from one
    // rendering, in one read of the page, and waited for together: read apart, the header could come
    // from the next rendering, or from none (a read that failed shows an error in the table's place).
    const shown = (): Promise<{ head: string[]; nums: string[]; states: string[] } | null> =>
      page.evaluate(() => {
        const t = document.querySelector('table.evaluations');
        const text = (sel: string): string[] => (t ? [...t.querySelectorAll(sel)].map((e) => e.textContent ?? '') : []);
        return t ? { head: text('thead th'), nums: text('tbody td.num'), states: text('tbody .badge') } : null;
      });
    // A job's last score can be shown a moment before the job itself is marked finished.
    await eventually(shown, 45_000).toEqual({
      head: ['step', 'state', 'jglue-mini', 'ja-bpc', 'evaluation job'],
      nums: ['10', '0.1', '0.6', '20', '0.2', '0.7'],
      states: ['succeeded', 'succeeded'],
    });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-training-evaluations.png'), fullPage: true });
    // Each row links to its evaluation job's own page.
    await rows.nth(1).locator('a').click();
    await eventually(() => page.locator('.job-title h1').textContent()).toBe('ja-0.3b eval @ step 20');
  });

  it('pauses a running job from its page and resumes it, and the API agrees each time; paused jobs can be filtered', async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'cleaning',
      name: 'mc4-filter',
      input: { count: 5000, prefix: 'shard-' },
      pool: 'local',
      run: { builtin: 'sleep', ms: 100 },
    });
    const id: string = sub.body.id;
    const page = await signedInPage();
    await page.goto(`${cp.url}/#/jobs/${id}`);
    const badge = page.locator('.job-title .badge');
    await eventually(() => badge.textContent(), 30_000).toBe('running');
    expect(await page.locator('[data-action=resume]').isVisible()).toBe(false);

    await page.click('[data-action=pause]');
    await eventually(() => badge.textContent()).toBe('paused');
    expect((await api.get(`/v1/jobs/${id}`)).body.state).toBe('paused');
    expect(await page.locator('[data-action=pause]').isVisible()).toBe(false);
    // Nothing new starts: workers see the pause within their job cache's second; once the tasks in
    // flight are done, the page's count stands still.
    await page.waitForTimeout(1500);
    await eventually(() => page.locator('.stat-running .stat-value').textContent(), 15_000).toBe('0');
    const held = await page.locator('.stat-succeeded .stat-value').textContent();
    await page.waitForTimeout(1000);
    expect(await page.locator('.stat-succeeded .stat-value').textContent()).toBe(held);

    await page.click('[data-action=resume]');
    await eventually(() => badge.textContent()).toBe('running');
    expect((await api.get(`/v1/jobs/${id}`)).body.state).toBe('running');
    await eventually(
      async () => (await page.locator('.stat-succeeded .stat-value').textContent()) !== held,
      15_000,
    ).toBe(true);

    // The jobs list offers paused among its states (it is a state like any other).
    await page.goto(`${cp.url}/#/jobs`);
    expect(await page.locator('select[name=state] option').allTextContents()).toContain('paused');
    await api.post(`/v1/jobs/${id}/cancel`, {});
  });

  it('cancels a running job from its page after a confirm, and the API agrees', async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'cleaning',
      name: 'mc4-dedup',
      input: { count: 5000, prefix: 'shard-' },
      pool: 'local',
      run: { builtin: 'sleep', ms: 200 },
    });
    const id: string = sub.body.id;
    const page = await signedInPage();
    await page.goto(`${cp.url}/#/jobs/${id}`);
    await eventually(() => page.locator('.job-title .badge').textContent(), 30_000).toBe('running');

    // Dismissing the confirm leaves the job alone.
    page.once('dialog', (d) => void d.dismiss());
    await page.click('[data-action=cancel]');
    await page.waitForTimeout(300);
    expect((await api.get(`/v1/jobs/${id}`)).body.state).toBe('running');

    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await page.click('[data-action=cancel]');
    await eventually(() => page.locator('.job-title .badge').textContent()).toBe('cancelled');
    expect(asked).toContain('Cancel job "mc4-dedup"?');
    expect(await page.locator('[data-action=cancel]').isVisible()).toBe(false);
    const job = await waitFor(async () => {
      const j = (await api.get(`/v1/jobs/${id}`)).body;
      return j.state === 'cancelled' ? j : undefined;
    });
    expect(job.reason).toBe('cancelled by admin');
    await eventually(() => page.locator('.meta [data-field=reason]').textContent()).toBe('cancelled by admin');
  });
});
