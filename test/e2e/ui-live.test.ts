import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type SimFleet, startSimAgents } from '../support/sim-agents.ts';
import {
  type AgentProcess,
  cleanupDir,
  HTTPD_1,
  removeNodeContainers,
  requireDocker,
  startAgentProcess,
  tempDir,
  uniqueNode,
} from './support/agent-harness.ts';
import { launchBrowser, openPage, screenshot, signIn, type WatchedPage } from './support/ui-browser.ts';
import { type BerthServer, startBerthServer } from './support/ui-server.ts';

/**
 * The dashboard in real Chromium against the real server (`npm start`'s entry) with three
 * simulated agents: what an operator does on a laptop, end to end. Last, a real agent on the
 * Docker Engine joins, so that a container's logs are followed as it writes them.
 */

const IMAGE_V1 = 'registry.example.com/shop/web:1.0.0';
const IMAGE_V2 = 'registry.example.com/shop/web:1.1.0';
const NODES = ['ui-node-1', 'ui-node-2', 'ui-node-3'];

let server: BerthServer;
let fleet: SimFleet;
let browser: Browser;
let viewerToken: string;
let viewerId: string;
const opened: WatchedPage[] = [];

function deployment(replicas: number, image: string) {
  return {
    apiVersion: 'berth.dev/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas,
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image, ports: [{ name: 'http', containerPort: 8080 }] }] },
      },
    },
  };
}

async function apiDeployment(): Promise<{
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
  status?: { readyReplicas?: number; revision?: number };
}> {
  const res = await server.call('GET', '/v1/namespaces/default/deployments/web');
  expect(res.status).toBe(200);
  return res.body as never;
}

async function signedIn(token: string, path: string, expectedStatus: number[] = []): Promise<WatchedPage> {
  const w = await openPage(browser, { expectedStatus });
  opened.push(w);
  await w.page.goto(`${server.url}${path}`);
  await signIn(w.page, token);
  await w.page.locator('header.topbar').waitFor();
  return w;
}

const webRow = (page: Page) => page.locator('table.deployments tr[data-name="web"]');

beforeAll(async () => {
  server = await startBerthServer();
  // Fail fast and say why, rather than letting every browser step time out.
  const shell = await fetch(`${server.url}/ui/`);
  if (shell.status !== 200) {
    throw new Error(`GET /ui/ answered ${shell.status}: the app must mount app.route('/ui', createUi())`);
  }
  fleet = await startSimAgents({
    server: server.url,
    adminToken: server.adminToken,
    count: 3,
    prefix: 'ui-node',
    options: { readyAfterMs: 300, waitSeconds: 20 },
  });
  const viewer = await server.call('POST', '/v1/tokens', {
    name: 'ui-viewer',
    role: 'viewer',
    namespaces: ['default'],
  });
  expect(viewer.status, JSON.stringify(viewer.body)).toBe(201);
  ({ token: viewerToken, id: viewerId } = viewer.body as { token: string; id: string });
  const created = await server.call('PUT', '/v1/namespaces/default/deployments/web', deployment(3, IMAGE_V1));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const w of opened) await w.context.close().catch(() => {});
  await browser?.close();
  await fleet?.stop();
  await server?.stop();
});

describe('dashboard on the real server', () => {
  it('is served at /ui with deep links', async () => {
    for (const path of ['/ui', '/ui/', '/ui/deployments/default/web']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.text()).toContain('id="app"');
    }
  });

  it('signs in and shows the deployment reach 3/3', async () => {
    const { page, problems } = await signedIn(server.adminToken, '/ui/');
    await page.getByRole('heading', { level: 1, name: 'Deployments' }).waitFor();
    await webRow(page).locator('[data-field="ready"]', { hasText: '3/3' }).waitFor({ timeout: 90_000 });
    await webRow(page).locator('[data-field="rollout"][data-state="complete"]').waitFor({ timeout: 90_000 });
    await expect(webRow(page).locator('code.image').textContent()).resolves.toBe(IMAGE_V1);
    await expect(page.locator('.who').textContent()).resolves.toContain('admin');
    await screenshot(page, 'live-deployments');
    expect(problems, server.output()).toEqual([]);
  });

  it('opens the deployment and shows its replicas with their nodes', async () => {
    const { page, problems } = await signedIn(server.adminToken, '/ui/deployments/default');
    await webRow(page).getByRole('link', { name: 'web' }).click();
    await page.waitForURL('**/ui/deployments/default/web');
    const rows = page.locator('table.replicas tbody tr');
    await expect.poll(() => rows.count(), { timeout: 90_000 }).toBe(3);
    await expect
      .poll(async () => (await page.locator('table.replicas [data-field="node"]').allTextContents()).sort(), {
        timeout: 90_000,
      })
      .toEqual(expect.arrayContaining([expect.stringMatching(/^ui-node-[123]$/)]));
    for (const n of await page.locator('table.replicas [data-field="node"]').allTextContents()) {
      expect(NODES).toContain(n);
    }
    await page.locator('table.replicas tbody tr', { hasText: 'Running' }).first().waitFor();
    await page.getByRole('heading', { name: 'Conditions' }).waitFor();
    await page.getByRole('heading', { name: 'Revision history' }).waitFor();
    // Logs travel server → agent → server; the simulated agent answers with one line.
    const first = rows.first();
    const id = await first.getAttribute('data-replica');
    await first.getByRole('button', { name: `Show logs of replica ${id}` }).click();
    await page.locator('pre.logs', { hasText: `log line of ${id}` }).waitFor({ timeout: 20_000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'live-deployment');
    expect(problems, server.output()).toEqual([]);
  });

  it('scales from the page', async () => {
    const { page, problems } = await signedIn(server.adminToken, '/ui/deployments/default/web');
    const scale = page.getByLabel('Scale to');
    await scale.fill('4');
    await scale.press('Enter');
    await page.locator('.facts [data-field="ready"]', { hasText: '4/4 ready' }).waitFor({ timeout: 90_000 });
    await expect.poll(() => page.locator('table.replicas tbody tr').count(), { timeout: 90_000 }).toBe(4);
    expect((await apiDeployment()).spec.replicas).toBe(4);
    expect(problems, server.output()).toEqual([]);
  });

  it('rolls back from the page', async () => {
    const { page, problems } = await signedIn(server.adminToken, '/ui/deployments/default/web');
    // A second revision arrives from outside (CI); the page follows it live.
    const patched = await server.call('PATCH', '/v1/namespaces/default/deployments/web', {
      spec: { template: { spec: { containers: [{ name: 'web', image: IMAGE_V2 }] } } },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    await page.locator('table.revisions tr.current', { hasText: IMAGE_V2 }).waitFor({ timeout: 90_000 });
    await page
      .locator('[data-field="rollout"], .page-title .badge', { hasText: 'Complete' })
      .first()
      .waitFor({
        timeout: 90_000,
      });
    await page.locator('.facts [data-field="ready"]', { hasText: '4/4 ready' }).waitFor({ timeout: 90_000 });

    const v1 = page.locator('table.revisions tbody tr', { hasText: IMAGE_V1 });
    await v1.getByRole('button', { name: /Roll back to revision/ }).click();
    await page.locator('.flash', { hasText: /Rolling web back to revision/ }).waitFor();
    await page.locator('table.revisions tr.current', { hasText: IMAGE_V1 }).waitFor({ timeout: 90_000 });
    await page.locator('.facts', { hasText: IMAGE_V1 }).waitFor({ timeout: 90_000 });
    await page.locator('.facts [data-field="ready"]', { hasText: '4/4 ready' }).waitFor({ timeout: 90_000 });
    expect((await apiDeployment()).spec.template.spec.containers[0]?.image).toBe(IMAGE_V1);
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'live-deployment-rolled-back');
    expect(problems, server.output()).toEqual([]);
  });

  it('shows nodes and events', async () => {
    const { page, problems } = await signedIn(server.adminToken, '/ui/nodes');
    for (const n of NODES) {
      const card = page.locator(`.node-card[data-node="${n}"]`);
      await card.getByText('Ready', { exact: true }).waitFor({ timeout: 90_000 });
      await card.getByRole('button', { name: `Cordon ${n}` }).waitFor();
      await card.getByRole('meter', { name: `Memory allocated on ${n}` }).waitFor();
    }
    await screenshot(page, 'live-nodes');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
    await page.waitForURL('**/ui/events/default');
    await page.locator('table.events tbody tr').first().waitFor({ timeout: 90_000 });
    await screenshot(page, 'live-events');
    expect(problems, server.output()).toEqual([]);
  });

  it('gives a viewer token no write controls', async () => {
    const { page, problems } = await signedIn(viewerToken, '/ui/deployments/default/web');
    await page.locator('table.replicas tbody tr').first().waitFor({ timeout: 90_000 });
    await page.locator('table.revisions tbody tr').nth(1).waitFor({ timeout: 90_000 });
    await expect(page.locator('.who').textContent()).resolves.toContain('viewer');
    await expect(
      page.getByRole('button', { name: /Pause rollout|Resume rollout|Roll back|^Scale$/ }).count(),
    ).resolves.toBe(0);
    await expect(page.getByLabel('Scale to').count()).resolves.toBe(0);
    await screenshot(page, 'live-deployment-viewer');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Nodes' }).click();
    await page.waitForURL('**/ui/nodes');
    await page.getByRole('heading', { level: 1, name: 'Nodes' }).waitFor();
    await expect(page.getByRole('button', { name: /Cordon|Uncordon|Drain/ }).count()).resolves.toBe(0);
    expect(problems, server.output()).toEqual([]);
  });

  it("shows the namespace policy, refuses an invalid one beside its field, and saves an admin's edit", async () => {
    // 422: the invalid suffix below is refused on purpose.
    const { page, problems } = await signedIn(server.adminToken, '/ui/policy/default', [422]);
    const facts = page.locator('section[aria-labelledby="policy-title"]');
    await facts
      .locator('[data-default]', { hasText: 'has no policy of its own' })
      .waitFor({ timeout: 90_000 });
    await expect(facts.locator('[data-field="defaultMemory"]').textContent()).resolves.toBe('1Gi');

    const suffixes = page.getByLabel('Allowed host suffixes');
    await suffixes.fill('Shop_Example.test');
    await page.getByRole('button', { name: 'Save policy' }).click();
    const error = page.locator('.field[data-field="allowedHostSuffixes"] .field-error');
    await error.waitFor({ timeout: 90_000 });
    await expect(error.textContent()).resolves.toContain('spec.allowedHostSuffixes[0]');
    const refused = await server.call('GET', '/v1/namespaces/default/policy');
    expect((refused.body as { metadata: { annotations?: object } }).metadata.annotations).toEqual({
      'berth.dev/default': 'true',
    });

    await suffixes.fill('shop.example.test');
    await page.getByLabel('Replicas quota').fill('50');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page
      .locator('.flash', { hasText: 'Saved the policy of namespace default' })
      .waitFor({ timeout: 90_000 });
    await facts.locator('.card-head .badge', { hasText: 'Own policy' }).waitFor();
    await facts.locator('[data-field="hostSuffixes"]', { hasText: 'shop.example.test' }).waitFor();
    const saved = await server.call('GET', '/v1/namespaces/default/policy');
    expect(saved.status).toBe(200);
    expect((saved.body as { spec: unknown }).spec).toMatchObject({
      allowedHostSuffixes: ['shop.example.test'],
      quota: { replicas: 50 },
      defaultLimits: { memory: '1Gi' },
    });
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'live-policy');

    // The namespace's viewer reads it, with no form.
    const viewer = await signedIn(viewerToken, '/ui/policy/default');
    await viewer.page.locator('[data-field="hostSuffixes"]', { hasText: 'shop.example.test' }).waitFor({
      timeout: 90_000,
    });
    await expect(viewer.page.locator('form[data-form="policy"]').count()).resolves.toBe(0);
    expect([...problems, ...viewer.problems], server.output()).toEqual([]);
  });

  it("shows a ConfigMap's text values to a viewer, and its binary data by size only", async () => {
    const put = await server.call('PUT', '/v1/namespaces/default/configmaps/web-config', {
      metadata: { name: 'web-config' },
      data: { 'nginx.conf': 'worker_processes 1;\n' },
      binaryData: { 'favicon.ico': Buffer.alloc(64, 1).toString('base64') },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    const { page, problems } = await signedIn(viewerToken, '/ui/configmaps/default');
    const row = page.locator('table.configmaps tr[data-name="web-config"]');
    await row.waitFor({ timeout: 90_000 });
    // 20 bytes of text, 64 of binary data.
    await expect(row.locator('[data-field="size"]').textContent()).resolves.toBe('84 B');
    await row.getByRole('link', { name: 'web-config' }).click();
    await page.locator('pre.cm-value[data-value="nginx.conf"]', { hasText: 'worker_processes 1;' }).waitFor();
    await expect(page.locator('table.binary tr[data-binary="favicon.ico"]').textContent()).resolves.toBe(
      'favicon.ico64 B',
    );
    await screenshot(page, 'live-configmap');
    expect(problems, server.output()).toEqual([]);
  });

  it('signs out a session whose token is revoked', async () => {
    const { page, problems } = await signedIn(viewerToken, '/ui/deployments/default', [401]);
    await webRow(page).waitFor({ timeout: 90_000 });
    expect((await server.call('DELETE', `/v1/tokens/${viewerId}`)).status).toBe(204);
    await page
      .getByRole('alert')
      .filter({ hasText: 'Your token is no longer accepted' })
      .waitFor({ timeout: 10_000 });
    await page.locator('input[name="token"]').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('berth.token'))).toBeNull();
    expect(problems, server.output()).toEqual([]);
  });
});

describe('logs followed live from a real agent', () => {
  const node = uniqueNode('ui-logs');
  let agent: AgentProcess | undefined;
  let agentDir: string | undefined;
  let replica: string;

  /** A container that writes `line N` every half second, pinned to the real agent's node. */
  const ticker = (replicas: number) => ({
    apiVersion: 'berth.dev/v1',
    kind: 'Deployment',
    metadata: { name: 'ticker' },
    spec: {
      replicas,
      template: {
        metadata: { labels: { app: 'ticker' } },
        spec: {
          nodeSelector: { 'kubernetes.io/hostname': node },
          terminationGracePeriodSeconds: 1,
          drainDelaySeconds: 0,
          containers: [
            {
              name: 'ticker',
              image: HTTPD_1,
              command: ['sh', '-c', 'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.5; done'],
            },
          ],
        },
      },
    },
  });

  /** The highest `line N` in the text: what the container had written when it was read. */
  const lastLine = (text: string | null) =>
    Math.max(-1, ...[...(text ?? '').matchAll(/^line (\d+)$/gm)].map((m) => Number(m[1])));

  beforeAll(async () => {
    await requireDocker([HTTPD_1]);
    const join = await server.call('POST', '/v1/join-tokens', {});
    expect(join.status, JSON.stringify(join.body)).toBe(201);
    agentDir = await tempDir('berth-ui-logs-agent');
    agent = startAgentProcess({
      server: server.url,
      name: node,
      dataDir: agentDir,
      joinToken: (join.body as { token: string }).token,
    });
    await eventually(
      async () => (await server.call('GET', `/v1/nodes/${node}`)).status === 200,
      60_000,
      'agent registration',
    );
    const put = await server.call('PUT', '/v1/namespaces/default/deployments/ticker', ticker(1));
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    replica = await eventually(
      async () => {
        const r = await server.call('GET', '/v1/namespaces/default/replicas?deployment=ticker');
        const items = (r.body as { items?: { id: string; node?: string; ready?: boolean }[] }).items ?? [];
        return items.find((i) => i.node === node && i.ready)?.id;
      },
      90_000,
      'ticker running on the real agent',
    );
  });

  afterAll(async () => {
    await agent?.stop();
    await removeNodeContainers(node);
    await cleanupDir(agentDir);
  });

  it('shows lines written after the card opened, without a reload, until Close stops the stream', async () => {
    const { page, problems } = await signedIn(server.adminToken, '/ui/deployments/default/ticker');
    const row = page.locator(`table.replicas tr[data-replica="${replica}"]`);
    await row.locator('[data-field="phase"]', { hasText: 'Running' }).waitFor({ timeout: 90_000 });
    await row.getByRole('button', { name: `Show logs of replica ${replica}` }).click();
    const logs = page.locator('pre.logs');
    await logs.filter({ hasText: /\bline \d+\b/ }).waitFor({ timeout: 30_000 });
    // Off until pressed: the card opened with a snapshot.
    const follow = page.getByRole('button', { name: `Follow the logs of replica ${replica}` });
    await expect(follow.getAttribute('aria-pressed')).resolves.toBe('false');
    // A reload would lose this.
    await page.evaluate(() => {
      (window as unknown as { berthMark: number }).berthMark = 1;
    });

    await follow.click();
    await page.locator('[data-follow="streaming"]').waitFor({ timeout: 30_000 });
    await expect(follow.getAttribute('aria-pressed')).resolves.toBe('true');
    // While following, Refresh has nothing to add.
    await expect(page.getByRole('button', { name: 'Refresh logs' }).count()).resolves.toBe(0);
    await logs.filter({ hasText: /\bline \d+\b/ }).waitFor({ timeout: 30_000 });
    const first = lastLine(await logs.textContent());
    // Three seconds of writing later, without a reload.
    await logs.filter({ hasText: new RegExp(`\\bline ${first + 6}\\b`) }).waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { berthMark?: number }).berthMark)).toBe(1);
    // Once there is more than the view holds, it scrolls along to the newest line.
    await expect
      .poll(() => logs.evaluate((pre) => pre.scrollHeight - pre.clientHeight), { timeout: 30_000 })
      .toBeGreaterThan(100);
    const newest = lastLine(await logs.textContent());
    await logs.filter({ hasText: new RegExp(`\\bline ${newest + 2}\\b`) }).waitFor({ timeout: 30_000 });
    const atEnd = () => logs.evaluate((pre) => pre.scrollHeight - pre.scrollTop - pre.clientHeight <= 8);
    await expect.poll(atEnd, { timeout: 5_000 }).toBe(true);
    // Someone reading further up is not pulled down by new lines.
    await logs.evaluate((pre) => {
      pre.scrollTop = 0;
    });
    const before = lastLine(await logs.textContent());
    const height = await logs.evaluate((pre) => pre.scrollHeight);
    await logs.filter({ hasText: new RegExp(`\\bline ${before + 3}\\b`) }).waitFor({ timeout: 30_000 });
    await expect(logs.evaluate((pre) => pre.scrollHeight)).resolves.toBeGreaterThan(height);
    await expect(logs.evaluate((pre) => pre.scrollTop)).resolves.toBe(0);
    await screenshot(page, 'live-logs-following');

    // Close aborts the stream (the page's own fetch), which ends the server's rounds with the agent.
    const aborted = page.waitForEvent('requestfailed', {
      predicate: (r) => r.url().includes(`/pods/${replica}/log?follow=true`),
      timeout: 10_000,
    });
    await page.getByRole('button', { name: 'Close logs' }).click();
    await expect(aborted.then((r) => r.failure()?.errorText)).resolves.toContain('ERR_ABORTED');
    await expect(logs.count()).resolves.toBe(0);
    expect(problems, server.output()).toEqual([]);
  });

  it('says when the stream ends with its replica, and offers to follow again', async () => {
    const { page, problems } = await signedIn(server.adminToken, '/ui/deployments/default/ticker');
    const row = page.locator(`table.replicas tr[data-replica="${replica}"]`);
    await row.getByRole('button', { name: `Show logs of replica ${replica}` }).click();
    await page.getByRole('button', { name: `Follow the logs of replica ${replica}` }).click();
    await page.locator('[data-follow="streaming"]').waitFor({ timeout: 30_000 });
    const logs = page.locator('pre.logs');
    await logs.filter({ hasText: /\bline \d+\b/ }).waitFor({ timeout: 30_000 });
    // Followed for a while: a stream that ends at once is taken for a server that cannot follow.
    const first = lastLine(await logs.textContent());
    await logs.filter({ hasText: new RegExp(`\\bline ${first + 8}\\b`) }).waitFor({ timeout: 30_000 });
    const scaled = await server.call('PUT', '/v1/namespaces/default/deployments/ticker/scale', {
      replicas: 0,
    });
    expect(scaled.status, JSON.stringify(scaled.body)).toBe(200);
    const ended = page.locator('[data-follow="ended"]');
    await ended.waitFor({ timeout: 60_000 });
    await expect(ended.textContent()).resolves.toContain('The log stream ended');
    await ended.getByRole('button', { name: `Follow the logs of replica ${replica} again` }).waitFor();
    // The lines stay for reading.
    await expect(logs.textContent()).resolves.toMatch(/^line \d+$/m);
    await screenshot(page, 'live-logs-ended');
    expect(problems, server.output()).toEqual([]);
  });
});
