import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, screenshot, signIn, type WatchedPage } from './support/ui-browser.ts';
import { STUB_TOKENS, type StubServer, startStubServer } from './support/ui-stub-api.ts';

/**
 * The dashboard in real Chromium against an in-memory API (support/ui-stub-api.ts): every page,
 * every write control, error rendering, roles and keyboard use. ui-live.test.ts repeats the main
 * path against the real server with simulated agents.
 */

let browser: Browser;
let stub: StubServer;
const opened: WatchedPage[] = [];

async function open(opts: Parameters<typeof openPage>[1] = {}): Promise<WatchedPage> {
  const w = await openPage(browser, opts);
  opened.push(w);
  return w;
}

async function signedIn(token: string, path = '/ui/', opts: Parameters<typeof openPage>[1] = {}) {
  const w = await open(opts);
  await w.page.goto(`${stub.url}${path}`);
  await signIn(w.page, token);
  await w.page.locator('header.topbar').waitFor();
  return w;
}

const row = (page: Page, name: string) => page.locator(`table.deployments tr[data-name="${name}"]`);

beforeAll(async () => {
  stub = await startStubServer({ tickMs: 400 });
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const w of opened) await w.context.close().catch(() => {});
  await browser?.close();
  await stub?.close();
});

describe('dashboard against the stub API', () => {
  it('signs in with a token that never appears in a URL, and shows a rollout reaching 3/3 live', async () => {
    const { page, problems } = await open({ expectedStatus: [401] });
    await page.goto(`${stub.url}/ui/`);
    await screenshot(page, 'stub-signin');
    await expect(page.title()).resolves.toBe('Sign in · Berth');

    // A wrong token is refused with the server's reason.
    await signIn(page, 'not-a-token');
    await page.getByRole('alert').filter({ hasText: 'Token not accepted' }).waitFor();
    expect(await page.locator('input[name="token"]').getAttribute('aria-invalid')).toBe('true');

    await signIn(page, STUB_TOKENS.admin);
    await page.getByRole('heading', { level: 1, name: 'Deployments' }).waitFor();
    // The namespace field suggests the namespaces the server lists, not only those visited.
    await expect(
      page
        .locator('#ns-input')
        .evaluate((el) => [...((el as HTMLInputElement).list?.options ?? [])].map((o) => o.value)),
    ).resolves.toEqual(['default', 'staging']);
    // The page updates by itself while the fake controller converges.
    await row(page, 'web').locator('[data-field="ready"]', { hasText: '3/3' }).waitFor({ timeout: 15_000 });
    await row(page, 'web').locator('[data-field="rollout"][data-state="complete"]').waitFor();
    await expect(row(page, 'web').locator('[data-field="revision"]').textContent()).resolves.toBe('#2');
    await expect(row(page, 'api').locator('[data-field="rollout"]').getAttribute('data-state')).resolves.toBe(
      'paused',
    );
    await expect(row(page, 'worker').locator('[data-field="rollout"]').textContent()).resolves.toContain(
      'Deadline exceeded',
    );
    await screenshot(page, 'stub-deployments-1366');

    // A new image rolls out while we watch: the row goes through progressing to complete with
    // no reload (the page polls).
    await row(page, 'queue')
      .locator('[data-field="rollout"][data-state="complete"]')
      .waitFor({ timeout: 15_000 });
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      const cell = () => document.querySelector('tr[data-name="queue"] [data-field="rollout"]');
      new MutationObserver(() => {
        const st = cell()?.getAttribute('data-state');
        if (st && seen[seen.length - 1] !== st) seen.push(st);
      }).observe(document.body, { subtree: true, attributes: true, childList: true });
    });
    const patched = await fetch(`${stub.url}/v1/namespaces/default/deployments/queue`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${STUB_TOKENS.admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        spec: { template: { spec: { containers: [{ image: 'registry.example.com/queue:3.2.0' }] } } },
      }),
    });
    expect(patched.status).toBe(200);
    await row(page, 'queue')
      .locator('[data-field="revision"]', { hasText: '#2' })
      .waitFor({ timeout: 15_000 });
    await row(page, 'queue')
      .locator('[data-field="rollout"][data-state="complete"]')
      .waitFor({ timeout: 15_000 });
    await row(page, 'queue').locator('code.image', { hasText: 'queue:3.2.0' }).waitFor();
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(seen).toContain('progressing');
    expect(seen[seen.length - 1]).toBe('complete');

    expect(await page.evaluate(() => sessionStorage.getItem('berth.token'))).toBe(STUB_TOKENS.admin);
    const api = stub.requests.filter((r) => r.auth === `Bearer ${STUB_TOKENS.admin}`);
    expect(api.length).toBeGreaterThan(3);
    expect(stub.requests.every((r) => !r.path.includes(STUB_TOKENS.admin))).toBe(true);
    expect(page.url()).not.toContain(STUB_TOKENS.admin);
    expect(problems).toEqual([]);
  });

  it('opens a deployment: replicas with nodes, logs, scale, pause/resume and rollback from the page', async () => {
    // 422: the invalid scale below is refused on purpose.
    const { page, problems } = await signedIn(STUB_TOKENS.admin, '/ui/', { expectedStatus: [422] });
    await row(page, 'web').getByRole('link', { name: 'web' }).click();
    await page.waitForURL('**/ui/deployments/default/web');
    await page.getByRole('heading', { level: 1, name: 'web' }).waitFor();
    // Focus moves to the new page's heading for screen reader and keyboard users.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('page-title');

    const replicas = page.locator('table.replicas tbody tr');
    await expect.poll(() => replicas.count(), { timeout: 15_000 }).toBe(3);
    const nodes = await page.locator('table.replicas [data-field="node"]').allTextContents();
    for (const n of nodes) expect(['vm-eu-1', 'vm-eu-2', 'vm-us-1']).toContain(n);
    await page.getByRole('heading', { name: 'Conditions' }).waitFor();

    // Logs of a replica.
    await replicas
      .first()
      .getByRole('button', { name: /Show logs of replica/ })
      .click();
    await page.locator('pre.logs', { hasText: 'listening on :8080' }).waitFor();
    expect(stub.requests.some((r) => /\/replicas\/[^/]+\/logs\?tail=100$/.test(r.path))).toBe(true);

    // Scale with the keyboard: type and press Enter.
    const scale = page.getByLabel('Scale to');
    await scale.fill('5');
    await scale.press('Enter');
    await page.locator('.flash', { hasText: 'Scaling web to 5 replicas' }).waitFor();
    expect(
      stub.requests.find((r) => r.method === 'PUT' && r.path.endsWith('/deployments/web/scale'))?.body,
    ).toEqual({
      replicas: 5,
    });
    await page.locator('.facts [data-field="ready"]', { hasText: '5/5 ready' }).waitFor({ timeout: 15_000 });
    await expect.poll(() => replicas.count(), { timeout: 15_000 }).toBe(5);
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'stub-deployment-1366');

    // Invalid input: the API's problem+json detail and errors[].path are shown.
    await scale.fill('99');
    await scale.press('Enter');
    const err = page.locator('.flash-error', { hasText: 'Could not scale web' });
    await err.waitFor();
    await expect(err.textContent()).resolves.toContain('replicas: must be an integer between 0 and 50');
    await err.getByRole('button', { name: 'Dismiss notification' }).click();
    await scale.fill('3');
    await scale.press('Enter');
    await page.locator('.facts [data-field="ready"]', { hasText: '3/3 ready' }).waitFor({ timeout: 15_000 });

    // Pause, then resume.
    await page.getByRole('button', { name: 'Pause rollout' }).click();
    await page.getByRole('button', { name: 'Resume rollout' }).click();
    await page.getByRole('button', { name: 'Pause rollout' }).waitFor();
    const verbs = stub.requests.filter((r) => r.method === 'POST').map((r) => r.path);
    expect(verbs).toContain('/v1/namespaces/default/deployments/web/pause');
    expect(verbs).toContain('/v1/namespaces/default/deployments/web/resume');

    // One-click rollback to revision 1: a new revision with the old image rolls out.
    await page.getByRole('button', { name: 'Roll back to revision 1' }).click();
    await page.locator('.flash', { hasText: 'Rolling web back to revision 1' }).waitFor();
    expect(stub.requests.find((r) => r.path.endsWith('/deployments/web/rollback'))?.body).toEqual({
      toRevision: 1,
    });
    await page.locator('.facts [data-field="revision"]', { hasText: '#3' }).waitFor();
    await page
      .locator('table.revisions tr.current', { hasText: 'registry.example.com/web:1.4.1' })
      .waitFor({ timeout: 15_000 });
    await page.locator('table.replicas tbody tr', { hasText: '#3' }).first().waitFor({ timeout: 15_000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'stub-deployment-rolled-back');

    // A deep link survives a reload: the token is in sessionStorage, the route in the path.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'web' }).waitFor();
    await page.locator('table.replicas tbody tr').first().waitFor();
    expect(problems).toEqual([]);
  });

  it('shows nodes with capacity bars and lets an admin cordon, uncordon and drain', async () => {
    const { page, problems } = await signedIn(STUB_TOKENS.admin, '/ui/nodes');
    await page.getByRole('heading', { level: 1, name: 'Nodes' }).waitFor();
    const card = page.locator('.node-card[data-node="vm-eu-1"]');
    await card.getByText('Ready', { exact: true }).waitFor();
    await expect(card.getByRole('meter', { name: 'CPU allocated on vm-eu-1' }).count()).resolves.toBe(1);
    await expect(card.textContent()).resolves.toContain('8 GiB');
    await expect(card.textContent()).resolves.toContain('region=eu');
    await page.locator('.node-card[data-node="vm-us-1"]').getByText('NotReady').waitFor();

    await card.getByRole('button', { name: 'Cordon vm-eu-1' }).click();
    await card.getByText('Cordoned').waitFor();
    await card.getByRole('button', { name: 'Uncordon vm-eu-1' }).click();
    await card.getByRole('button', { name: 'Cordon vm-eu-1' }).waitFor();

    // Drain asks for a second press before it moves anything.
    await card.getByRole('button', { name: 'Drain vm-eu-1' }).click();
    expect(stub.requests.some((r) => r.path === '/v1/nodes/vm-eu-1/drain')).toBe(false);
    await card.getByRole('button', { name: 'Confirm draining vm-eu-1' }).click();
    await page.locator('.flash', { hasText: 'Draining vm-eu-1' }).waitFor();
    expect(stub.requests.some((r) => r.path === '/v1/nodes/vm-eu-1/drain')).toBe(true);
    await card.getByText('Cordoned').waitFor();
    await screenshot(page, 'stub-nodes-1366');
    await card.getByRole('button', { name: 'Uncordon vm-eu-1' }).click();
    await card.getByRole('button', { name: 'Cordon vm-eu-1' }).waitFor();
    expect(problems).toEqual([]);
  });

  it('lists namespace events and switches namespace with the picker', async () => {
    const { page, problems } = await signedIn(STUB_TOKENS.admin, '/ui/events/default');
    await page.getByRole('heading', { level: 1, name: 'Events' }).waitFor();
    await page.locator('table.events tr', { hasText: 'ProgressDeadlineExceeded' }).waitFor();
    await page.locator('table.events').getByRole('link', { name: 'deployment/worker' }).first().waitFor();
    const picker = page.getByRole('combobox', { name: 'Namespace' });
    await picker.fill('staging');
    await picker.press('Enter');
    await page.waitForURL('**/ui/events/staging');
    await page.locator('table.events tr', { hasText: 'deployment/web' }).first().waitFor();
    await expect(page.locator('table.events').textContent()).resolves.not.toContain('worker');
    await screenshot(page, 'stub-events-1366');
    // The namespace carries over to the deployments page.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deployments' }).click();
    await page.waitForURL('**/ui/deployments/staging');
    await row(page, 'web').locator('code.image', { hasText: '1.5.0-rc.1' }).waitFor();
    expect(problems).toEqual([]);
  });

  it("shows a namespace's policy and lets an admin edit it, with a refusal's errors beside their fields", async () => {
    // 422: the invalid save below is refused on purpose.
    const { page, problems } = await signedIn(STUB_TOKENS.admin, '/ui/policy/default', {
      expectedStatus: [422],
    });
    await page.getByRole('heading', { level: 1, name: 'Namespace policy' }).waitFor();
    await expect(
      page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Policy' })
        .getAttribute('aria-current'),
    ).resolves.toBe('page');
    const facts = page.locator('section[aria-labelledby="policy-title"]');
    await facts.locator('[data-field="hostSuffixes"]', { hasText: 'shop.example.com' }).waitFor();
    await expect(facts.locator('.card-head .badge').textContent()).resolves.toBe('Own policy');
    await expect(facts.locator('[data-default]').count()).resolves.toBe(0);
    await expect(facts.locator('[data-field="hostPorts"]').textContent()).resolves.toBe('30000–30100');
    await expect(facts.locator('[data-field="quotaReplicas"]').textContent()).resolves.toBe('20');
    await expect(facts.locator('[data-field="defaultMemory"]').textContent()).resolves.toBe('512Mi');

    // The form starts from the policy in force.
    const suffixes = page.getByLabel('Allowed host suffixes');
    await expect(suffixes.inputValue()).resolves.toBe('shop.example.com');
    await expect(page.getByLabel('Default memory limit').inputValue()).resolves.toBe('512Mi');

    // Invalid values: the API's errors[].path appear beside the fields they name, and what was
    // typed survives the polls that follow.
    await suffixes.fill('Bad_Domain.com, eu.example.net');
    await page.getByLabel('Host ports from').fill('30100');
    await page.getByLabel('to', { exact: true }).fill('30000');
    await page.getByRole('button', { name: 'Save policy' }).click();
    const suffixError = page.locator('.field[data-field="allowedHostSuffixes"] .field-error');
    await suffixError.waitFor();
    await expect(suffixError.textContent()).resolves.toContain(
      'spec.allowedHostSuffixes[0]: must be a lowercase domain',
    );
    await expect(
      page.locator('.field[data-field="hostPortsMax"] .field-error').textContent(),
    ).resolves.toContain('spec.hostPorts.max: min must not be above max');
    await expect(suffixes.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.getByLabel('Host ports from').getAttribute('aria-invalid')).resolves.toBeNull();
    await page.getByRole('alert').filter({ hasText: 'The policy was not saved' }).waitFor();
    // Focus goes to the first field to fix.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('policy-allowedHostSuffixes');
    const polls = stub.requests.filter((r) => r.path === '/v1/namespaces/default/policy').length;
    await expect
      .poll(() => stub.requests.filter((r) => r.path === '/v1/namespaces/default/policy').length, {
        timeout: 10_000,
      })
      .toBeGreaterThan(polls + 1);
    await expect(suffixes.inputValue()).resolves.toBe('Bad_Domain.com, eu.example.net');
    await screenshot(page, 'stub-policy-refused');

    // Fixed and saved: sent with the resourceVersion read, answered with the new policy.
    await suffixes.fill('shop.example.com, eu.example.net');
    await page.getByLabel('to', { exact: true }).fill('30200');
    await page.getByLabel('Host ports from').fill('30000');
    await page.getByLabel('Allow wildcard hosts').check();
    await page.getByLabel('CPU quota').fill('8');
    await page.getByLabel('Default memory limit').fill('');
    await page.getByLabel('Default memory limit').press('Enter');
    await page.locator('.flash', { hasText: 'Saved the policy of namespace default' }).waitFor();
    const puts = stub.requests.filter(
      (r) => r.method === 'PUT' && r.path === '/v1/namespaces/default/policy',
    );
    expect(puts).toHaveLength(2);
    expect(puts[1]!.body).toEqual({
      apiVersion: 'berth.dev/v1',
      kind: 'NamespacePolicy',
      metadata: { name: 'default', labels: {}, resourceVersion: '1' },
      spec: {
        allowedHostSuffixes: ['shop.example.com', 'eu.example.net'],
        allowWildcardHosts: true,
        hostPorts: { min: 30000, max: 30200 },
        quota: { replicas: 20, cpu: '8' },
        defaultLimits: { memory: null },
      },
    });
    await facts.locator('[data-field="hostSuffixes"]', { hasText: 'eu.example.net' }).waitFor();
    await expect(facts.locator('[data-field="hostPorts"]').textContent()).resolves.toBe('30000–30200');
    await expect(facts.locator('[data-field="wildcards"]').textContent()).resolves.toBe(
      'allowed within the suffixes',
    );
    await expect(facts.locator('[data-field="defaultMemory"]').textContent()).resolves.toBe('none');
    await expect(page.locator('.field-error').count()).resolves.toBe(0);
    await expect(suffixes.getAttribute('aria-invalid')).resolves.toBeNull();
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'stub-policy-1366');
    expect(problems).toEqual([]);
  });

  it('marks the default policy, gives a namespace its own from it, and never overwrites a save made meanwhile', async () => {
    const { page, problems } = await signedIn(STUB_TOKENS.admin, '/ui/policy/default', {
      expectedStatus: [409],
    });
    const picker = page.getByRole('combobox', { name: 'Namespace' });
    await picker.fill('staging');
    await picker.press('Enter');
    await page.waitForURL('**/ui/policy/staging');
    const facts = page.locator('section[aria-labelledby="policy-title"]');
    await facts.locator('[data-default]', { hasText: 'has no policy of its own' }).waitFor();
    await expect(facts.locator('.card-head .badge').textContent()).resolves.toBe('Default');
    await expect(facts.locator('[data-field="defaultMemory"]').textContent()).resolves.toBe('1Gi');
    await expect(facts.locator('[data-field="hostSuffixes"]').textContent()).resolves.toContain(
      'no host names',
    );
    // What was typed for the other namespace does not follow: this form is staging's.
    await expect(page.getByLabel('Allowed host suffixes').inputValue()).resolves.toBe('');
    await screenshot(page, 'stub-policy-default');

    await page.getByLabel('Replicas quota').fill('5');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.locator('.flash', { hasText: 'Saved the policy of namespace staging' }).waitFor();
    const created = stub.requests.filter(
      (r) => r.method === 'PUT' && r.path === '/v1/namespaces/staging/policy',
    );
    // The default is not stored: no version to match, and its annotation stays the server's.
    expect(created.at(-1)!.body).toMatchObject({
      metadata: { name: 'staging' },
      spec: { quota: { replicas: 5 }, defaultLimits: { memory: '1Gi' } },
    });
    expect((created.at(-1)!.body as { metadata: object }).metadata).toEqual({ name: 'staging' });
    await facts.locator('.card-head .badge', { hasText: 'Own policy' }).waitFor();

    // The page goes on showing version 1 while another admin saves version 2: saving from the
    // stale page is refused (409), and the next poll brings version 2 with the typed edit kept.
    const stale = await (
      await fetch(`${stub.url}/v1/namespaces/staging/policy`, {
        headers: { Authorization: `Bearer ${STUB_TOKENS.admin}` },
      })
    ).text();
    let servedStale = 0;
    await page.route('**/v1/namespaces/staging/policy', (route) => {
      if (route.request().method() !== 'GET') return route.fallback();
      servedStale++;
      return route.fulfill({ status: 200, contentType: 'application/json', body: stale });
    });
    // A refresh sent before the route was in place could still bring version 2: the other admin
    // saves only once a refresh has been answered from the stale copy (refreshes go one at a time).
    await expect.poll(() => servedStale, { timeout: 60_000 }).toBeGreaterThan(0);
    const other = await fetch(`${stub.url}/v1/namespaces/staging/policy`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${STUB_TOKENS.admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        spec: { allowedHostSuffixes: ['staging.example.com'], quota: { replicas: 5 } },
      }),
    });
    expect(other.status).toBe(200);
    await page.getByLabel('Memory quota').fill('2Gi');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.locator('.flash-error', { hasText: 'The policy of staging was changed meanwhile' }).waitFor();
    await page.unroute('**/v1/namespaces/staging/policy');
    await facts
      .locator('[data-field="hostSuffixes"]', { hasText: 'staging.example.com' })
      .waitFor({ timeout: 10_000 });
    await expect(page.getByLabel('Allowed host suffixes').inputValue()).resolves.toBe('staging.example.com');
    await expect(page.getByLabel('Memory quota').inputValue()).resolves.toBe('2Gi');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.locator('.flash-ok', { hasText: 'Saved the policy of namespace staging' }).last().waitFor();
    const last = stub.requests
      .filter((r) => r.method === 'PUT' && r.path === '/v1/namespaces/staging/policy')
      .at(-1);
    expect(last!.body).toMatchObject({
      metadata: { resourceVersion: '2' },
      spec: { allowedHostSuffixes: ['staging.example.com'], quota: { replicas: 5, memory: '2Gi' } },
    });
    expect(problems).toEqual([]);
  });

  it('shows init containers and sidecars with their states, the Init:N/M phase, their logs and the volumes', async () => {
    const { page, problems } = await signedIn(STUB_TOKENS.admin, '/ui/deployments/default/shop');
    await page.getByRole('heading', { level: 1, name: 'shop' }).waitFor();
    const rep = (id: string) => page.locator(`table.replicas tr[data-replica="${id}"]`);
    const ctrs = (id: string) => page.locator(`table.replicas tr[data-containers-of="${id}"]`);
    // The phase as `berth get replicas` words it, from the CLI's own rule.
    await rep('shop-initing').locator('[data-field="phase"]', { hasText: 'Init:1/2' }).waitFor();
    await expect(rep('shop-crashing').locator('[data-field="phase"]').textContent()).resolves.toBe(
      'Init:CrashLoopBackOff',
    );
    await expect(rep('shop-running').locator('[data-field="phase"]').textContent()).resolves.toBe('Running');

    // Each init container and sidecar with its state, exit code and restarts, before the app's.
    const crashing = ctrs('shop-crashing').locator('li.ctr');
    await expect(
      crashing.evaluateAll((els) => els.map((e) => e.getAttribute('data-container'))),
    ).resolves.toEqual(['migrate', 'log-shipper', 'shop']);
    const migrate = ctrs('shop-crashing').locator('li.ctr[data-container="migrate"]');
    await expect(migrate.getAttribute('data-role')).resolves.toBe('init');
    await expect(migrate.locator('[data-field="state"]').textContent()).resolves.toBe('Waiting');
    await expect(migrate.textContent()).resolves.toMatch(/CrashLoopBackOff.*exit 1.*3 restarts/);
    const done = ctrs('shop-running').locator('li.ctr[data-container="migrate"]');
    await expect(done.locator('[data-field="state"]').textContent()).resolves.toBe('Terminated');
    await expect(done.textContent()).resolves.toMatch(/Completed.*exit 0/);
    const sidecar = ctrs('shop-running').locator('li.ctr[data-container="log-shipper"]');
    await expect(sidecar.getAttribute('data-role')).resolves.toBe('sidecar');
    await expect(sidecar.locator('[data-field="state"]').textContent()).resolves.toBe('Running');
    await expect(
      ctrs('shop-initing').locator('li.ctr[data-container="shop"] [data-field="reason"]').textContent(),
    ).resolves.toBe('PodInitializing');
    await page.locator('.facts [data-init="log-shipper"]', { hasText: 'sidecar' }).waitFor();
    // What each container uses (the agent's sample) against its request; near its memory limit, a warning.
    const usage = ctrs('shop-running').locator('li.ctr[data-container="shop"] [data-field="usage"]');
    await expect(usage.textContent()).resolves.toBe('cpu 24m/100m mem 120Mi/64Mi');
    await expect(usage.getAttribute('title')).resolves.toContain('limit 128Mi');
    await expect(usage.getAttribute('class')).resolves.toContain('ctr-tight');
    await expect(sidecar.locator('[data-field="usage"]').textContent()).resolves.toBe('cpu 2m mem 9Mi');

    // The pod's volumes: name, source kind, what it reads and where it is mounted.
    const vol = (name: string) => page.locator(`table.volumes tr[data-volume="${name}"]`);
    await expect(vol('cache').locator('[data-field="kind"]').textContent()).resolves.toBe('emptyDir');
    await expect(vol('cache').locator('[data-field="mounts"]').textContent()).resolves.toContain(
      'log-shipper: /var/log/shop',
    );
    await expect(vol('tls').locator('[data-field="kind"]').textContent()).resolves.toBe('secret');
    await expect(vol('tls').locator('[data-field="source"]').textContent()).resolves.toBe('shop-tls');
    await expect(vol('tls').locator('[data-field="mounts"]').textContent()).resolves.toBe(
      'shop: /etc/tls (read-only)',
    );
    await expect(vol('config').locator('[data-field="kind"]').textContent()).resolves.toBe('configMap');
    await expect(vol('config').locator('[data-field="mounts"]').textContent()).resolves.toContain(
      'shop: /etc/shop/app.properties (subPath app.properties)',
    );

    // Logs: every container's, then one init container's or the sidecar's alone.
    await rep('shop-running').getByRole('button', { name: 'Show logs of replica shop-running' }).click();
    const logs = page.locator('pre.logs');
    await logs.filter({ hasText: '[shop] listening on :8080' }).waitFor();
    const picker = page.getByRole('group', { name: 'Containers' });
    await expect(picker.getByRole('button').allTextContents()).resolves.toEqual([
      'All containers',
      'migrate (init)',
      'log-shipper (sidecar)',
      'shop',
    ]);
    await picker.getByRole('button', { name: 'migrate (init)' }).click();
    await page.locator('pre.logs[aria-label*="container migrate"]').waitFor();
    await expect(logs.textContent()).resolves.toBe('applied 3 migrations');
    expect(stub.requests.some((r) => /\/replicas\/shop-running\/logs\?tail=1000$/.test(r.path))).toBe(true);
    await picker.getByRole('button', { name: 'log-shipper (sidecar)' }).click();
    await page.locator('pre.logs[aria-label*="container log-shipper"]').waitFor();
    await expect(logs.textContent()).resolves.toBe('shipping /var/log/shop\nshipped 12 lines');
    await expect(
      picker.getByRole('button', { name: 'log-shipper (sidecar)' }).getAttribute('aria-pressed'),
    ).resolves.toBe('true');
    await screenshot(page, 'stub-deployment-init-containers');

    // A ConfigMap volume links to the ConfigMap's page.
    await vol('config').getByRole('link', { name: 'shop-config' }).click();
    await page.waitForURL('**/ui/configmaps/default/shop-config');
    await page.getByRole('heading', { level: 1, name: 'shop-config' }).waitFor();
    expect(problems).toEqual([]);
  });

  it('lists ConfigMaps and shows one to a viewer, live: text values shown, binary data by size only', async () => {
    // 404: the missing ConfigMap below is asked for on purpose.
    const { page, problems } = await signedIn(STUB_TOKENS.viewer, '/ui/configmaps/default', {
      expectedStatus: [404],
    });
    await page.getByRole('heading', { level: 1, name: 'ConfigMaps' }).waitFor();
    await expect(
      page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'ConfigMaps' })
        .getAttribute('aria-current'),
    ).resolves.toBe('page');
    const cmRow = (name: string) => page.locator(`table.configmaps tr[data-name="${name}"]`);
    await cmRow('shop-config').waitFor();
    await expect(cmRow('shop-config').locator('[data-field="keys"]').textContent()).resolves.toBe(
      '3 LOG_LEVEL, app.properties, logo.png',
    );
    // 4 + 21 bytes of text and 300 of binary data.
    await expect(cmRow('shop-config').locator('[data-field="size"]').textContent()).resolves.toBe('325 B');
    await expect(cmRow('shop-config').locator('[data-field="immutable"]').textContent()).resolves.toBe('No');
    await expect(cmRow('feature-flags').locator('[data-field="immutable"]').textContent()).resolves.toBe(
      'Yes',
    );
    await screenshot(page, 'stub-configmaps');

    await cmRow('shop-config').getByRole('link', { name: 'shop-config' }).click();
    await page.waitForURL('**/ui/configmaps/default/shop-config');
    await page.getByRole('heading', { level: 1, name: 'shop-config' }).waitFor();
    const value = (key: string) => page.locator(`pre.cm-value[data-value="${key}"]`);
    await expect(value('app.properties').textContent()).resolves.toBe('color=blue\nmode=fast\n');
    await expect(value('LOG_LEVEL').textContent()).resolves.toBe('info');
    await expect(page.locator('table.binary tr[data-binary="logo.png"]').textContent()).resolves.toBe(
      'logo.png300 B',
    );
    await expect(value('logo.png').count()).resolves.toBe(0);
    const base64 = Buffer.alloc(300, 7).toString('base64');
    await expect(page.locator('main').textContent()).resolves.not.toContain(base64.slice(0, 40));
    await screenshot(page, 'stub-configmap');

    // A change made elsewhere shows up without a reload.
    const put = await fetch(`${stub.url}/v1/namespaces/default/configmaps/shop-config`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${STUB_TOKENS.admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ data: { 'app.properties': 'color=green\n', LOG_LEVEL: 'debug' } }),
    });
    expect(put.status).toBe(200);
    await page
      .locator('pre.cm-value[data-value="LOG_LEVEL"]', { hasText: 'debug' })
      .waitFor({ timeout: 10_000 });
    await expect(page.locator('table.binary').count()).resolves.toBe(0);

    // A missing one is an error on the page, not a blank.
    await page.goto(`${stub.url}/ui/configmaps/default/nope`);
    await page.getByRole('alert').filter({ hasText: 'Could not load this ConfigMap' }).waitFor();
    expect(stub.requests.some((r) => r.auth === `Bearer ${STUB_TOKENS.viewer}` && r.method !== 'GET')).toBe(
      false,
    );
    // Secrets are write-only: the dashboard never reads them.
    expect(stub.requests.some((r) => r.path.includes('/secrets'))).toBe(false);
    expect(problems).toEqual([]);
  });

  it("lists a namespace's services with type, cluster IP, node ports, hosts and ready endpoints, and its ingresses' rules", async () => {
    // 403: the viewer's look at another namespace below.
    const { page, problems } = await signedIn(STUB_TOKENS.viewer, '/ui/services/default', {
      expectedStatus: [403],
    });
    await page.getByRole('heading', { level: 1, name: 'Services' }).waitFor();
    await expect(
      page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Services' })
        .getAttribute('aria-current'),
    ).resolves.toBe('page');
    const svc = (name: string, field: string) =>
      page.locator(`table.services tr[data-name="${name}"] [data-field="${field}"]`);
    await svc('web', 'type').waitFor();
    await expect(svc('web', 'type').textContent()).resolves.toBe('NodePort');
    await expect(svc('web', 'cluster-ip').textContent()).resolves.toBe('10.43.0.17');
    await expect(svc('web', 'ports').textContent()).resolves.toBe('http 80:30080/TCP → 8080');
    await expect(svc('web', 'hosts').textContent()).resolves.toBe('web.shop.example.com');
    // Endpoints follow the replicas as they become ready, each with its node.
    await svc('web', 'endpoints').locator('li[data-endpoint]').nth(2).waitFor({ timeout: 15_000 });
    await expect(svc('web', 'endpoints').textContent()).resolves.toMatch(/^3 10\.0\.0\.\d:\d+ on vm-/);
    // A server that sends no type or cluster IP: the defaults, and no endpoints is said so.
    await expect(svc('db', 'type').textContent()).resolves.toBe('ClusterIP');
    await expect(svc('db', 'cluster-ip').textContent()).resolves.toBe('—');
    await expect(svc('db', 'ports').textContent()).resolves.toBe('5432/TCP → 5432');
    await expect(svc('db', 'endpoints').textContent()).resolves.toBe('0 none ready');
    await screenshot(page, 'stub-services');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Ingresses' }).click();
    await page.waitForURL('**/ui/ingresses/default');
    await page.getByRole('heading', { level: 1, name: 'Ingresses' }).waitFor();
    const ing = (field: string) =>
      page.locator(`table.ingresses tr[data-name="shop"] [data-field="${field}"]`);
    await ing('rules').waitFor();
    await expect(ing('class').textContent()).resolves.toBe('berth');
    await expect(ing('hosts').textContent()).resolves.toBe('shop.example.com');
    await expect(ing('rules').locator('li').allTextContents()).resolves.toEqual([
      'shop.example.com/ prefix → web:80',
      'shop.example.com/healthz exact → web:http',
    ]);
    await screenshot(page, 'stub-ingresses');
    // The picker keeps the page; a namespace the token may not read is an error, not a blank.
    await page.locator('#ns-input').fill('staging');
    await page.locator('#ns-input').press('Enter');
    await page.waitForURL('**/ui/ingresses/staging');
    await page.getByRole('alert').filter({ hasText: 'Could not load ingresses' }).waitFor();
    expect(problems).toEqual([]);
  });

  it('lists the ACME certificates a viewer may read, a failing renewal first with its error', async () => {
    const { page, problems } = await signedIn(STUB_TOKENS.viewer, '/ui/deployments/default');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Certificates' }).click();
    await page.waitForURL('**/ui/certificates');
    await page.getByRole('heading', { level: 1, name: 'Certificates' }).waitFor();
    await expect(page.title()).resolves.toBe('Certificates · Berth');
    const rows = page.locator('table.certificates tbody tr');
    await rows.first().waitFor();
    // The viewer reads default only: staging's host is not listed. The failing one comes first.
    await expect(rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-host')))).resolves.toEqual([
      'shop.example.com',
      'web.shop.example.com',
    ]);
    await expect(page.locator('.page-head .sub').textContent()).resolves.toContain(
      '2 certificates · 1 failing',
    );
    const listed = (await (
      await fetch(`${stub.url}/v1/certificates`, {
        headers: { Authorization: `Bearer ${STUB_TOKENS.viewer}` },
      })
    ).json()) as { items: { host: string; notAfter: string }[] };
    const notAfter = (host: string) => listed.items.find((c) => c.host === host)?.notAfter.slice(0, 10);
    const cell = (host: string, field: string) =>
      page.locator(`table.certificates tr[data-host="${host}"] [data-field="${field}"]`);

    const failing = page.locator('table.certificates tr[data-host="shop.example.com"]');
    await expect(failing.getAttribute('class')).resolves.toBe('failing');
    const badge = cell('shop.example.com', 'status').locator('.badge');
    await expect(badge.textContent()).resolves.toBe('RenewalFailing');
    await expect(badge.getAttribute('class')).resolves.toContain('badge-bad');
    await expect(cell('shop.example.com', 'error-text').textContent()).resolves.toBe(
      'HTTP-01 challenge for shop.example.com failed: connection refused on port 80',
    );
    await expect(cell('shop.example.com', 'next-attempt').textContent()).resolves.toMatch(
      /^next attempt in \d+m$/,
    );
    await expect(cell('shop.example.com', 'failures').textContent()).resolves.toBe('3');
    await expect(cell('shop.example.com', 'not-after').textContent()).resolves.toBe(
      `${notAfter('shop.example.com')}in 12 days`,
    );

    await expect(cell('web.shop.example.com', 'status').textContent()).resolves.toBe('Ready');
    await expect(
      cell('web.shop.example.com', 'status').locator('.badge').getAttribute('class'),
    ).resolves.toContain('badge-ok');
    await expect(cell('web.shop.example.com', 'issuer').textContent()).resolves.toBe(
      'Pebble Intermediate CA 1a2b3c',
    );
    await expect(cell('web.shop.example.com', 'not-after').textContent()).resolves.toBe(
      `${notAfter('web.shop.example.com')}in 60 days`,
    );
    await expect(cell('web.shop.example.com', 'failures').textContent()).resolves.toBe('0');
    await expect(cell('web.shop.example.com', 'last-error').textContent()).resolves.toBe('—');
    await screenshot(page, 'stub-certificates');

    // An admin reads every namespace: staging's host, not issued yet, is there too.
    const admin = await signedIn(STUB_TOKENS.admin, '/ui/certificates');
    const pending = admin.page.locator('table.certificates tr[data-host="reports.example.org"]');
    await pending.locator('[data-field="not-after"]', { hasText: 'not issued yet' }).waitFor();
    await expect(pending.locator('[data-field="status"]').textContent()).resolves.toBe('Pending');
    expect([...problems, ...admin.problems]).toEqual([]);
  });

  it("lists a namespace's jobs as kubectl words them and opens one: pods, container states, logs of finished pods, Delete", async () => {
    // A refresh of the deleted Job's page may be in flight as the Delete lands: its 404 is expected
    // (the page then goes back to the list), and Chromium logs every 404 it fetches.
    const { page, problems } = await signedIn(STUB_TOKENS.admin, '/ui/jobs/default', {
      expectedStatus: [404],
    });
    await page.getByRole('heading', { level: 1, name: 'Jobs' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(
      nav.getByRole('link', { name: 'Jobs', exact: true }).getAttribute('aria-current'),
    ).resolves.toBe('page');
    await expect(page.title()).resolves.toBe('Jobs · default · Berth');
    const job = (name: string, field: string) =>
      page.locator(`table.jobs tr[data-name="${name}"] [data-field="${field}"]`);
    await job('render', 'status').waitFor();
    // Newest first, each in the words of kubectl get jobs.
    await expect(
      page.locator('table.jobs tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.name)),
    ).resolves.toEqual(['reindex', 'render', 'nightly-backup-29002', 'nightly-backup-29001']);
    await expect(job('nightly-backup-29001', 'status').textContent()).resolves.toBe('Complete');
    await expect(job('nightly-backup-29001', 'completions').textContent()).resolves.toBe('1/1');
    await expect(job('nightly-backup-29001', 'duration').textContent()).resolves.toBe('95s');
    await expect(job('nightly-backup-29002', 'status').textContent()).resolves.toBe(
      'Failed BackoffLimitExceeded',
    );
    await expect(job('render', 'status').textContent()).resolves.toBe('Running');
    await expect(job('render', 'completions').textContent()).resolves.toBe('1/3');
    await expect(job('reindex', 'status').textContent()).resolves.toBe('Suspended');
    await expect(job('reindex', 'duration').textContent()).resolves.toBe('—');
    await screenshot(page, 'stub-jobs');

    // An Indexed Job: its pods by index, the indexes done, and a finished pod's logs.
    await page.locator('table.jobs').getByRole('link', { name: 'render', exact: true }).click();
    await page.waitForURL('**/ui/jobs/default/render');
    await page.getByRole('heading', { level: 1, name: 'render' }).waitFor();
    await expect(page.title()).resolves.toBe('render · Jobs · default · Berth');
    await expect(page.locator('[data-field="completed-indexes"]').textContent()).resolves.toBe('0');
    await expect(page.locator('.stat[data-field="succeeded"] .stat-num').textContent()).resolves.toBe('1');
    const pods = page.locator('table.replicas tbody tr[data-replica]');
    await expect(
      pods.evaluateAll((rows) => rows.map((r) => r.querySelector('[data-field="index"]')?.textContent)),
    ).resolves.toEqual(['0', '1', '2']);
    const done = page.locator('tr[data-replica="render-0-q9w8e"]');
    await expect(done.locator('[data-field="phase"]').textContent()).resolves.toBe('Succeeded');
    await expect(
      page.locator('tr[data-containers-of="render-0-q9w8e"] li[data-container="main"]').textContent(),
    ).resolves.toBe('mainTerminatedCompletedexit 0');
    await done.getByRole('button', { name: 'Show logs of replica render-0-q9w8e' }).click();
    await page.locator('pre.logs', { hasText: 'frame 0 done' }).waitFor();
    expect(stub.requests.some((r) => r.path === '/v1/namespaces/default/replicas?job=render')).toBe(true);
    await screenshot(page, 'stub-job');

    // A failed Job: its reason, and how each pod ended.
    await page.goto(`${stub.url}/ui/jobs/default/nightly-backup-29002`);
    await page.locator('[data-field="failure"]', { hasText: 'backoff limit' }).waitFor();
    await expect(page.locator('.condition[data-condition="Failed"]').textContent()).resolves.toContain(
      'BackoffLimitExceeded',
    );
    await expect(
      page.locator('tr[data-containers-of="nightly-backup-29002-a1b2c"] [data-field="exit"]').textContent(),
    ).resolves.toBe('exit 2');
    await page.getByRole('link', { name: 'cronjob/nightly-backup' }).waitFor();
    await page
      .locator('table.events tr', { hasText: 'Job has reached the specified backoff limit' })
      .waitFor();
    expect(stub.requests.some((r) => r.path.endsWith('/events?object=job%2Fnightly-backup-29002'))).toBe(
      true,
    );

    // Delete asks for a second press, then goes back to the list, where the Job is gone.
    await page.goto(`${stub.url}/ui/jobs/default/reindex`);
    await page.getByRole('button', { name: 'Delete job reindex' }).click();
    expect(stub.requests.some((r) => r.method === 'DELETE')).toBe(false);
    await page.getByRole('button', { name: 'Confirm deleting job reindex' }).click();
    await page.waitForURL('**/ui/jobs/default');
    await page.locator('.flash', { hasText: 'Deleted job reindex' }).waitFor();
    await page.locator('table.jobs tr[data-name="render"]').waitFor();
    await expect(page.locator('table.jobs tr[data-name="reindex"]').count()).resolves.toBe(0);
    expect(stub.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([
      '/v1/namespaces/default/jobs/reindex',
    ]);
    // The picker keeps the page: an empty namespace says so.
    await page.locator('#ns-input').fill('staging');
    await page.locator('#ns-input').press('Enter');
    await page.waitForURL('**/ui/jobs/staging');
    await page.getByText('No jobs in namespace “staging”.', { exact: false }).waitFor();
    expect(problems).toEqual([]);
  });

  it('lists CronJobs and runs one now, suspends and resumes it, and reloads after a conflicting change', async () => {
    // 409: a change made behind the page's back, on purpose.
    const { page, problems } = await signedIn(STUB_TOKENS.admin, '/ui/cronjobs/default', {
      expectedStatus: [409],
    });
    await page.getByRole('heading', { level: 1, name: 'CronJobs' }).waitFor();
    const cron = (name: string, field: string) =>
      page.locator(`table.cronjobs tr[data-name="${name}"] [data-field="${field}"]`);
    await cron('nightly-backup', 'schedule').waitFor();
    await expect(cron('nightly-backup', 'schedule').textContent()).resolves.toBe('0 3 * * *');
    await expect(cron('nightly-backup', 'time-zone').textContent()).resolves.toBe('Europe/Berlin');
    await expect(cron('nightly-backup', 'suspend').textContent()).resolves.toBe('No');
    await expect(cron('nightly-backup', 'active').textContent()).resolves.toBe('0');
    // Seeded 10 minutes before the stub started, which may be a while ago on a busy machine.
    await expect(cron('nightly-backup', 'last-schedule').textContent()).resolves.toMatch(/^1\dm ago$/);
    await expect(cron('weekly-report', 'suspend').textContent()).resolves.toBe('Suspended');
    await expect(cron('weekly-report', 'time-zone').textContent()).resolves.toBe('—');
    await expect(cron('weekly-report', 'last-success').textContent()).resolves.toBe('never');
    await screenshot(page, 'stub-cronjobs');

    await page.getByRole('link', { name: 'nightly-backup' }).click();
    await page.waitForURL('**/ui/cronjobs/default/nightly-backup');
    await page.getByRole('heading', { level: 1, name: 'nightly-backup' }).waitFor();
    await expect(page.title()).resolves.toBe('nightly-backup · CronJobs · default · Berth');
    const runs = page.locator('table.runs tbody tr');
    await runs.first().waitFor();
    await expect(runs.evaluateAll((rows) => rows.map((r) => r.textContent))).resolves.toEqual([
      expect.stringMatching(/^nightly-backup-29002Failed BackoffLimitExceeded0\/160sschedule/),
      expect.stringMatching(/^nightly-backup-29001Complete1\/195sschedule/),
    ]);
    expect(
      stub.requests.some(
        (r) => r.path === '/v1/namespaces/default/jobs?labelSelector=berth.dev%2Fcronjob%3Dnightly-backup',
      ),
    ).toBe(true);

    // Run now: a Job from its template, named and labelled as kubectl names and labels one.
    await page.getByRole('button', { name: 'Run nightly-backup now' }).click();
    await page
      .locator('.flash', { hasText: /Started job nightly-backup-manual-[a-z0-9]{5} from nightly-backup/ })
      .waitFor();
    const put = stub.requests.find((r) => r.method === 'PUT' && r.path.includes('/jobs/'));
    expect(put?.path).toMatch(/^\/v1\/namespaces\/default\/jobs\/nightly-backup-manual-[a-z0-9]{5}$/);
    const sent = put?.body as { metadata: object; spec: { backoffLimit: number } };
    expect(sent.metadata).toEqual({
      labels: { app: 'backup', 'berth.dev/cronjob': 'nightly-backup' },
      annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
    });
    expect(sent.spec.backoffLimit).toBe(1);
    // The new run comes first and finishes while we watch.
    const manual = runs.first();
    await manual.locator('[data-field="started-by"]', { hasText: 'hand' }).waitFor({ timeout: 15_000 });
    await manual.locator('[data-field="status"][data-state="complete"]').waitFor({ timeout: 15_000 });
    await screenshot(page, 'stub-cronjob');

    // Suspend, then resume, each sent with the resourceVersion read.
    await page.getByRole('button', { name: 'Suspend nightly-backup' }).click();
    await page.getByRole('button', { name: 'Resume nightly-backup' }).waitFor();
    await page.locator('[data-field="suspend"]', { hasText: 'Yes' }).waitFor();
    const suspends = () =>
      stub.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/cronjobs/nightly-backup'));
    const first = suspends()[0]?.body as {
      metadata: { resourceVersion: string };
      spec: { suspend: boolean };
    };
    expect(first.metadata.resourceVersion).toBe('7');
    expect(first.spec.suspend).toBe(true);
    await page.getByRole('button', { name: 'Resume nightly-backup' }).click();
    await page.getByRole('button', { name: 'Suspend nightly-backup' }).waitFor();
    await page.locator('[data-field="suspend"]', { hasText: 'No' }).waitFor();

    // Someone else changes it between the page's read and its write: a 409, then the page reads
    // it again and the next press succeeds.
    await page.route('**/v1/namespaces/default/cronjobs/nightly-backup', async (route) => {
      if (route.request().method() === 'PUT') {
        const current = (await (
          await fetch(`${stub.url}/v1/namespaces/default/cronjobs/nightly-backup`, {
            headers: { Authorization: `Bearer ${STUB_TOKENS.admin}` },
          })
        ).json()) as object;
        await fetch(`${stub.url}/v1/namespaces/default/cronjobs/nightly-backup`, {
          method: 'PUT',
          headers: { Authorization: `Bearer ${STUB_TOKENS.admin}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(current),
        });
      }
      await route.fallback();
    });
    await page.getByRole('button', { name: 'Suspend nightly-backup' }).click();
    const err = page.locator('.flash-error', { hasText: 'Could not suspend nightly-backup' });
    await err.waitFor();
    await expect(err.textContent()).resolves.toContain('was changed meanwhile');
    await page.unroute('**/v1/namespaces/default/cronjobs/nightly-backup');
    await page.getByRole('button', { name: 'Suspend nightly-backup' }).click();
    await page.getByRole('button', { name: 'Resume nightly-backup' }).waitFor();
    const last = suspends().at(-1)?.body as { metadata: { resourceVersion: string } };
    expect(Number(last.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion) + 1);
    await page.getByRole('button', { name: 'Resume nightly-backup' }).click();
    await page.getByRole('button', { name: 'Suspend nightly-backup' }).waitFor();
    expect(problems).toEqual([]);
  });

  it('gives a viewer the Jobs and CronJobs pages with no write controls', async () => {
    // 404: the missing Job below is asked for on purpose.
    const { page, problems } = await signedIn(STUB_TOKENS.viewer, '/ui/cronjobs/default/nightly-backup', {
      expectedStatus: [404],
    });
    await page.locator('table.runs tbody tr').first().waitFor();
    await page.getByText('Read-only: your token may view this namespace but not change it.').waitFor();
    await expect(page.getByRole('button', { name: /Run .* now|Suspend|Resume/ }).count()).resolves.toBe(0);
    await page.locator('table.runs').getByRole('link', { name: 'nightly-backup-29001' }).click();
    await page.waitForURL('**/ui/jobs/default/nightly-backup-29001');
    await page.locator('table.replicas tbody tr[data-replica]').first().waitFor();
    await expect(page.getByRole('button', { name: /Delete/ }).count()).resolves.toBe(0);
    // Reading is still allowed: a finished pod's logs open.
    await page.getByRole('button', { name: /Show logs of replica/ }).click();
    await page.locator('pre.logs', { hasText: 'backup written' }).waitFor();
    // A missing Job is the server's problem on the page, not a blank.
    await page.goto(`${stub.url}/ui/jobs/default/nope`);
    const alert = page.getByRole('alert').filter({ hasText: 'Could not load this job' });
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toContain('job "default/nope" not found');
    expect(stub.requests.some((r) => r.auth === `Bearer ${STUB_TOKENS.viewer}` && r.method !== 'GET')).toBe(
      false,
    );
    expect(problems).toEqual([]);
  });

  it('gives a viewer every page but no write controls', async () => {
    const { page, problems } = await signedIn(STUB_TOKENS.viewer, '/ui/deployments/default/web');
    await page.getByRole('heading', { level: 1, name: 'web' }).waitFor();
    await page.locator('table.replicas tbody tr').first().waitFor({ timeout: 15_000 });
    await page.locator('table.revisions tbody tr').first().waitFor();
    await page.getByText('Read-only: your token may view this namespace but not change it.').waitFor();
    await expect(page.locator('.who').textContent()).resolves.toContain('viewer');
    for (const name of [/Pause rollout/, /Resume rollout/, /Roll back/, /^Scale$/]) {
      await expect(page.getByRole('button', { name }).count()).resolves.toBe(0);
    }
    await expect(page.getByLabel('Scale to').count()).resolves.toBe(0);
    // Reading is still allowed: logs open.
    await page
      .getByRole('button', { name: /Show logs of replica/ })
      .first()
      .click();
    await page.locator('pre.logs').waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'stub-deployment-viewer');

    await page.getByRole('link', { name: 'Nodes' }).click();
    await page.locator('.node-card').first().waitFor();
    await expect(page.getByRole('button', { name: /Cordon|Uncordon|Drain/ }).count()).resolves.toBe(0);
    // The namespace policy is readable, not editable.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policy' }).click();
    await page.waitForURL('**/ui/policy/default');
    await page.locator('[data-field="hostSuffixes"]', { hasText: 'shop.example.com' }).waitFor();
    await page.getByText('Read-only: only an admin token may change a namespace policy.').waitFor();
    await expect(page.locator('form[data-form="policy"]').count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Save policy' }).count()).resolves.toBe(0);
    expect(stub.requests.some((r) => r.auth === `Bearer ${STUB_TOKENS.viewer}` && r.method !== 'GET')).toBe(
      false,
    );
    expect(problems).toEqual([]);
  });

  it('shows a forbidden namespace as an error, not a blank page', async () => {
    const { page, problems } = await signedIn(STUB_TOKENS.deployer, '/ui/deployments/staging', {
      expectedStatus: [403],
    });
    const alert = page.getByRole('alert').filter({ hasText: 'Could not load deployments' });
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toContain('may not use namespace "staging"');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policy' }).click();
    await page.waitForURL('**/ui/policy/staging');
    const policy = page.getByRole('alert').filter({ hasText: 'Could not load the policy' });
    await policy.waitFor();
    await expect(policy.textContent()).resolves.toContain('may not use namespace "staging"');
    expect(problems).toEqual([]);
  });

  it('gives a kubeconfig for this server, token and namespace as a file', async () => {
    const { page, problems } = await signedIn(STUB_TOKENS.deployer, '/ui/deployments/default');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'kubeconfig' }).click(),
    ]);
    const path = await download.path();
    const config = JSON.parse(readFileSync(path, 'utf8'));
    const name = config['current-context'];
    expect(download.suggestedFilename()).toBe(`${name}.kubeconfig`);
    expect(config.clusters).toEqual([{ name, cluster: { server: stub.url } }]);
    expect(config.users).toEqual([{ name, user: { token: STUB_TOKENS.deployer } }]);
    expect(config.contexts).toEqual([{ name, context: { cluster: name, user: name, namespace: 'default' } }]);
    // Served over http here: the page says kubectl needs the https:// address.
    await page.getByText('kubectl sends its token over HTTPS only').waitFor();
    expect(problems).toEqual([]);
  });

  it('signs out: the token is forgotten and a reload asks again', async () => {
    const { page, problems } = await signedIn(STUB_TOKENS.admin, '/ui/');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('input[name="token"]').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('berth.token'))).toBeNull();
    await page.reload();
    await page.locator('input[name="token"]').waitFor();
    await expect(page.locator('header.topbar').count()).resolves.toBe(0);
    expect(problems).toEqual([]);
  });

  it('is usable by keyboard: skip link first, visible focus, Enter submits', async () => {
    const { page, problems } = await open();
    await page.goto(`${stub.url}/ui/nodes`);
    const token = page.locator('input[name="token"]');
    await token.waitFor();
    // The sign-in field is focused on load; Enter in it submits the form.
    await page.keyboard.type(STUB_TOKENS.admin);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Nodes' }).waitFor();
    await page.locator('.node-card').first().waitFor();

    // Fresh load (still signed in: the token is in sessionStorage): the first Tab stop is the skip link.
    await page.reload();
    await page.locator('.node-card').first().waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).toBe('solid');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    // From the main region the next Tab reaches the first control in the page, not the top bar.
    await page.keyboard.press('Tab');
    const label = await page.evaluate(() => document.activeElement?.getAttribute('aria-label'));
    expect(label).toBe('Cordon vm-eu-1');
    // Every button has an accessible name.
    const unnamed = await page.evaluate(
      () =>
        [...document.querySelectorAll('button, a, input')].filter(
          (el) =>
            !(
              el.getAttribute('aria-label') ||
              el.textContent?.trim() ||
              (el.id && document.querySelector(`label[for="${el.id}"]`))
            ),
        ).length,
    );
    expect(unnamed).toBe(0);
    expect(problems).toEqual([]);
  });

  it('looks right at 1920x1080 and in dark mode', async () => {
    const { page, problems } = await signedIn(STUB_TOKENS.admin, '/ui/deployments/default', {
      width: 1920,
      height: 1080,
    });
    await row(page, 'web').waitFor();
    await screenshot(page, 'stub-deployments-1920');
    await page.goto(`${stub.url}/ui/deployments/default/web`);
    await page.locator('table.replicas tbody tr').first().waitFor({ timeout: 15_000 });
    await screenshot(page, 'stub-deployment-1920');
    // Nothing overflows the viewport sideways at either size.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1920);

    const dark = await signedIn(STUB_TOKENS.admin, '/ui/deployments/default/web', { colorScheme: 'dark' });
    await dark.page.locator('table.replicas tbody tr').first().waitFor({ timeout: 15_000 });
    expect(await dark.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1366);
    await screenshot(dark.page, 'stub-deployment-dark');
    expect([...problems, ...dark.problems]).toEqual([]);
  });
});

describe('dashboard against a server without GET /v1/whoami', () => {
  let old: StubServer;
  beforeAll(async () => {
    old = await startStubServer({ whoami: false, tickMs: 250 });
  });
  afterAll(async () => {
    await old?.close();
  });

  it('offers write buttons until the server refuses one, then hides them', async () => {
    const { page, problems } = await open({ expectedStatus: [403, 404] });
    await page.goto(`${old.url}/ui/deployments/default/web`);
    await signIn(page, STUB_TOKENS.viewer);
    await page.getByRole('heading', { level: 1, name: 'web' }).waitFor();
    const pause = page.getByRole('button', { name: 'Pause rollout' });
    await pause.click();
    const err = page.locator('.flash-error', { hasText: 'Not allowed to pause web' });
    await err.waitFor();
    await expect(err.textContent()).resolves.toContain('A viewer token may not change anything.');
    await expect(pause.count()).resolves.toBe(0);
    await expect(page.getByLabel('Scale to').count()).resolves.toBe(0);
    await page.getByText('Read-only').waitFor();
    expect(problems).toEqual([]);
  });

  it("offers a CronJob's Run now and Suspend until the server refuses one, then hides them", async () => {
    const { page, problems } = await open({ expectedStatus: [403, 404] });
    await page.goto(`${old.url}/ui/cronjobs/default/nightly-backup`);
    await signIn(page, STUB_TOKENS.viewer);
    await page.getByRole('heading', { level: 1, name: 'nightly-backup' }).waitFor();
    await page.getByRole('button', { name: 'Run nightly-backup now' }).click();
    const err = page.locator('.flash-error', { hasText: 'Not allowed to run nightly-backup now' });
    await err.waitFor();
    await expect(err.textContent()).resolves.toContain('A viewer token may not change anything.');
    await expect(page.getByRole('button', { name: /Run .* now|Suspend|Resume/ }).count()).resolves.toBe(0);
    await page.getByText('Read-only').waitFor();
    expect(problems).toEqual([]);
  });

  it('shows the Certificates page of a server without GET /v1/certificates as its error, not a blank page', async () => {
    const { page, problems } = await open({ expectedStatus: [404] });
    await page.goto(`${old.url}/ui/certificates`);
    await signIn(page, STUB_TOKENS.admin);
    await page.getByRole('heading', { level: 1, name: 'Certificates' }).waitFor();
    const alert = page.getByRole('alert').filter({ hasText: 'Could not load certificates' });
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toContain('No route GET /v1/certificates.');
    expect(problems).toEqual([]);
  });

  it('offers the policy form until the server refuses a save, then shows the policy read-only', async () => {
    const { page, problems } = await open({ expectedStatus: [403, 404] });
    await page.goto(`${old.url}/ui/policy/default`);
    await signIn(page, STUB_TOKENS.deployer);
    await page.getByRole('heading', { level: 1, name: 'Namespace policy' }).waitFor();
    await page.getByLabel('Replicas quota').fill('100');
    await page.getByRole('button', { name: 'Save policy' }).click();
    const err = page.locator('.flash-error', { hasText: 'Not allowed to change the policy of default' });
    await err.waitFor();
    await expect(err.textContent()).resolves.toContain('this action needs an admin token');
    await page.getByText('Read-only: only an admin token may change a namespace policy.').waitFor();
    await expect(page.locator('form[data-form="policy"]').count()).resolves.toBe(0);
    await expect(page.locator('[data-field="quotaReplicas"]').textContent()).resolves.toBe('20');
    expect(problems).toEqual([]);
  });
});
