// The backprop explorer page (graph -o x.html) in a real browser: Debian's chromium,
// driven headless by puppeteer-core. Every step of the lecture examples is walked and
// what the page shows is compared with `grad --json`.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliJson } from '../helpers.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => p && existsSync(p));
if (!CHROMIUM) {
  console.warn('test/browser/explorer.test.ts: SKIPPED — no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)');
}
// Firefox too where it is installed (CI installs only chromium)
const FIREFOX = [process.env.FIREFOX_PATH, '/usr/bin/firefox-esr', '/usr/bin/firefox'].find((p) => p && existsSync(p));

type Nested = number | string | Nested[];
interface Json {
  nodes: { id: number; label: string; op: string; shape: number[]; value: Nested; grad: Nested | null }[];
  edges: { from: number; to: number; local: string; localValue: Nested | null; upstream: Nested; downstream: Nested }[];
  gradient: Record<string, Nested>;
  variables: string[];
}

const EXAMPLES = {
  'the lecture circuit (x+y)·z': { formula: 'q = x + y; f = q*z', at: 'x=-2,y=5,z=-4' },
  'the sigmoid neuron': { formula: '1/(1+exp(-(w0*x0+w1*x1+w2)))', at: 'w0=2,x0=-1,w1=-3,x1=-2,w2=-3' },
  'a small tensor formula': { formula: 'sum((W*x).^2)', at: 'W=[[1,2],[3,4]], x=[1,-1]' },
  'gradients adding at a branch': { formula: '(x+y)*sin(x)', at: 'x=pi,y=pi' },
};

const dir = mkdtempSync(join(tmpdir(), 'ag-explorer-'));
let browser: Browser;

function flat(v: Nested | null): number[] {
  if (v === null) return [];
  return Array.isArray(v) ? v.flatMap(flat) : [Number(v)];
}

/** Shown to 6 significant digits: equal to the truth within that. */
function expectShown(shown: number[], truth: number[], what: string): void {
  expect(shown.length, `${what}: ${shown} vs ${truth}`).toBe(truth.length);
  shown.forEach((s, i) =>
    expect(Math.abs(s - truth[i]), `${what}[${i}]: shown ${s}, grad --json ${truth[i]}`).toBeLessThanOrEqual(5e-6 * Math.abs(truth[i]) + 1e-12),
  );
}

/** The page for a formula, made by the real CLI, and grad --json at the same point. */
function make(name: string, formula: string, at: string): { file: string; json: Json } {
  const file = join(dir, `${name.replace(/\W+/g, '-')}.html`);
  const r = cli(['graph', formula, '--at', at, '-o', file]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/\(html: \d+ nodes, \d+ edges, [\d.]+ kB\)/);
  const g = cliJson(['grad', formula, '--at', at, '--no-check']);
  expect(g.code).toBe(0);
  return { file, json: g.json as Json };
}

/** Open a page, recording every console error and uncaught exception. */
async function open(file: string, scheme: 'light' | 'dark' | null = 'light', b: Browser = browser): Promise<{ page: Page; errors: string[] }> {
  const page = await b.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (q) => errors.push(`request failed: ${q.url()}`));
  await page.setViewport({ width: 1280, height: 800 });
  if (scheme) await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
  await page.goto(`file://${file}`);
  return { page, errors };
}

/** What the step panel shows: its heading and the numbers of each marked quantity (a table's cells in order). */
function panel(page: Page): Promise<{ heading: string; q: Record<string, { numbers: number[]; text: string }> }> {
  return page.evaluate(() => {
    const section = document.querySelector('aside section')!;
    const q: Record<string, { numbers: number[]; text: string }> = {};
    for (const el of Array.from(section.querySelectorAll<HTMLElement>('[data-q]'))) {
      const cells = Array.from(el.querySelectorAll('td'));
      const texts = cells.length ? cells.map((c) => c.textContent ?? '') : [el.textContent ?? ''];
      q[el.dataset.q!] = { numbers: texts.map(Number), text: el.textContent ?? '' };
    }
    return { heading: section.querySelector('h2')?.textContent ?? '', q };
  });
}

/** The numbers the picture shows on node n: its value line and its gradient (or tangent) line. */
function nodeLines(page: Page, id: number): Promise<{ value: string | null; flow: string | null; partial: boolean }> {
  return page.evaluate((id) => {
    const g = document.getElementById(`n${id}`)!;
    const line = (c: string) => {
      const t = g.querySelector<SVGTextElement>(`text.${c}`);
      return t && !t.classList.contains('ag-hidden') ? t.textContent : null;
    };
    return { value: line('ag-value'), flow: line('ag-flow'), partial: !!g.querySelector('text.ag-flow.ag-partial:not(.ag-hidden)') };
  }, id);
}

/** The numbers of a quantity in the node details panel (after clicking the node). */
async function details(page: Page, id: number, q: string): Promise<number[]> {
  await page.click(`#n${id}`);
  const nums = await page.evaluate((q) => {
    const el = document.querySelector(`aside section:last-child [data-q="${q}"]`)!;
    const cells = Array.from(el.querySelectorAll('td'));
    return (cells.length ? cells.map((c) => c.textContent) : [el.textContent]).map(Number);
  }, q);
  await page.click(`#n${id}`); // unpin
  return nums;
}

/**
 * Step through the whole page with the keyboard, checking each step against grad --json:
 * the forward pass node by node, the backward pass in backprop order, and at the end
 * every node's gradient. Screenshots of the first, a middle and the last step when asked.
 */
/** The forward pass's steps: the inputs, then each op (constants are known from the start). */
const forwardSteps = (json: Json) => [...json.nodes.filter((n) => n.op === 'input'), ...json.nodes.filter((n) => n.op !== 'input' && n.op !== 'const')];

async function walk(page: Page, json: Json, shoot: string | null): Promise<void> {
  const order = forwardSteps(json);
  const total = order.length + json.edges.length;
  expect(Number(await page.$eval('input[type=range]', (e) => (e as HTMLInputElement).max))).toBe(total);
  const shots = shoot
    ? new Map([
        [0, 'first'],
        [Math.floor(total / 2), 'middle'],
        [total - 1, 'last'],
      ])
    : new Map<number, string>();
  await page.keyboard.press('Home');
  for (let i = 0; i < total; i++) {
    const p = await panel(page);
    expect(p.heading).toBe(`Step ${i + 1} of ${total} · ${i < order.length ? 'forward' : 'backward'} pass`);
    if (i === 0 && order.length) expect(order[0].op, 'the forward pass starts at an input').toBe('input');
    if (i < order.length) {
      // forward: the node's value appears as it is computed, and no later node's
      const n = order[i];
      expectShown(p.q.value.numbers, flat(n.value), `step ${i + 1}: ${n.label}`);
      if (n.shape.length === 0) expect(Number((await nodeLines(page, n.id)).value)).toBe(p.q.value.numbers[0]);
      if (i + 1 < order.length) expect((await nodeLines(page, order[i + 1].id)).value).toBeNull();
    } else {
      // backward, in backprop order: downstream = upstream × local
      const e = json.edges[i - order.length];
      expectShown(p.q.downstream.numbers, flat(e.downstream), `step ${i + 1} downstream`);
      expectShown(p.q.upstream.numbers, flat(e.upstream), `step ${i + 1} upstream`);
      if (e.localValue !== null) expectShown(p.q.local.numbers, flat(e.localValue), `step ${i + 1} local`);
      else expect(p.q.local.text).toBe(e.local);
      expect(await page.evaluate(() => document.querySelector('g.edge.ag-current') !== null)).toBe(true);
    }
    if (shots.has(i)) {
      const path = join(dir, `${shoot}-${shots.get(i)}-step-${i + 1}.png`);
      await page.screenshot({ path });
      console.log(`screenshot: ${path}`);
    }
    await page.keyboard.press('ArrowRight');
  }
  // the last step: every node carries its final gradient, none of them partial
  for (const n of json.nodes) {
    const lines = await nodeLines(page, n.id);
    if (n.grad === null) {
      expect(lines.flow).toBeNull();
      continue;
    }
    expect(lines.partial).toBe(false);
    if (n.shape.length === 0) expectShown([Number(lines.flow)], flat(n.grad), `∂f/∂${n.label} on the picture`);
    else expectShown(await details(page, n.id, 'grad'), flat(n.grad), `∂f/∂${n.label} in the details`);
  }
}

describe.skipIf(!CHROMIUM)('the backprop explorer in Chromium', () => {
  beforeAll(async () => {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${mkdtempSync(join(tmpdir(), 'ag-chromium-'))}`,
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  for (const [name, { formula, at }] of Object.entries(EXAMPLES)) {
    it(`${name}: every step shows grad --json's values, local derivatives and gradients`, async () => {
      const { file, json } = make(name, formula, at);
      const { page, errors } = await open(file);
      await walk(page, json, name === 'the sigmoid neuron' ? 'sigmoid' : null);
      expect(errors).toEqual([]);
      await page.close();
    });
  }

  it('gradients add at a branch: the sum builds edge by edge, partial until the last', async () => {
    const { file, json } = make('branch', '(x+y)*sin(x)', 'x=pi,y=pi');
    const { page, errors } = await open(file);
    const x = json.nodes.find((n) => n.label === 'x')!;
    const into = json.edges.map((e, k) => ({ e, step: forwardSteps(json).length + k + 1 })).filter(({ e }) => e.from === x.id);
    expect(into).toHaveLength(2);
    await page.keyboard.press('Home');
    for (let i = 1; i < into[0].step; i++) await page.keyboard.press('ArrowRight');
    let lines = await nodeLines(page, x.id);
    expect(lines.partial).toBe(true);
    expectShown([Number(lines.flow)], flat(into[0].e.downstream), 'the first term');
    expect((await panel(page)).q.sofar.numbers).toEqual([Number(lines.flow)]);
    for (let i = into[0].step; i < into[1].step; i++) await page.keyboard.press('ArrowRight');
    lines = await nodeLines(page, x.id);
    expect(lines.partial).toBe(false);
    expectShown([Number(lines.flow)], flat(x.grad), 'the sum');
    expect(await page.$eval('aside section', (s) => s.textContent)).toMatch(
      /Gradients add at x.*∂f\/∂x = -6\.28319 \(from sin\(x\)\) \+ 1\.22465e-16 \(from x\+y\)/,
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  it('forward mode: tangents for each input, the output tangent being that entry of the gradient', async () => {
    for (const [name, { formula, at }] of [
      ['sigmoid', EXAMPLES['the sigmoid neuron']],
      ['tensor', EXAMPLES['a small tensor formula']],
    ] as const) {
      const { file, json } = make(`forward-${name}`, formula, at);
      const { page, errors } = await open(file);
      await page.click('.ag-bar label:nth-of-type(1) input');
      expect(Number(await page.$eval('input[type=range]', (e) => (e as HTMLInputElement).max))).toBe(forwardSteps(json).length);
      const seeds = await page.$$eval('.ag-bar select option', (os) => os.map((o) => o.textContent!));
      const gradient = json.variables.flatMap((v) => flat(json.gradient[v]));
      expect(seeds).toHaveLength(gradient.length);
      const out = json.nodes[json.nodes.length - 1];
      for (const [k, seed] of seeds.entries()) {
        await page.select('.ag-bar select', String(k));
        // the seed list keeps its own keys; step with the page's
        await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
        await page.keyboard.press('End');
        const p = await panel(page);
        expectShown(p.q.tangent.numbers, [gradient[k]], `∂f/∂${seed}`);
        expect(Number((await nodeLines(page, out.id)).flow)).toBe(p.q.tangent.numbers[0]);
      }
      expect(errors).toEqual([]);
      await page.close();
    }
  });

  it('keyboard, buttons and slider; labelled controls; dark colours when the viewer prefers them', async () => {
    const { file } = make('controls', EXAMPLES['the lecture circuit (x+y)·z'].formula, EXAMPLES['the lecture circuit (x+y)·z'].at);
    const { page, errors } = await open(file, 'dark');
    const step = () => page.$eval('input[type=range]', (e) => Number((e as HTMLInputElement).value));
    expect(await step()).toBe(1);
    await page.click('button[aria-label^="next step"]');
    await page.click('button[aria-label^="next step"]');
    expect(await step()).toBe(3);
    await page.click('button[aria-label^="last step"]');
    expect(await step()).toBe(9);
    expect(await page.$eval('button[aria-label^="next step"]', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    await page.keyboard.press('ArrowLeft');
    expect(await step()).toBe(8);
    // every control has a name a screen reader can say
    const unnamed = await page.$$eval('button, input, select', (els) => els.filter((e) => !e.getAttribute('aria-label') && !e.closest('label')).length);
    expect(unnamed).toBe(0);
    // a node is reachable by Tab and opens its details with Enter
    let tabs = 0;
    while ((await page.evaluate(() => document.activeElement?.id)) !== 'n2' && tabs++ < 30) await page.keyboard.press('Tab');
    expect(tabs).toBeLessThan(30);
    await page.keyboard.press('Enter');
    expect(await page.$eval('aside section:last-child h2', (h) => h.textContent)).toBe('Node add  q');
    expect(await page.$eval('#n2', (g) => g.classList.contains('ag-selected'))).toBe(true);
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(13, 17, 23)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('zoom: fit, + and −, never below a readable label size; the walk starts at an input, not a constant', async () => {
    const { file, json } = make('zoom', EXAMPLES['the sigmoid neuron'].formula, EXAMPLES['the sigmoid neuron'].at);
    const { page, errors } = await open(file);
    const zoom = () => page.$eval('#ag-graph svg', (s) => Number((s as SVGSVGElement).dataset.scale));
    const fitted = await zoom();
    // a node's text is 11 units: at the smallest scale it is still 9 px
    expect(fitted * 11).toBeGreaterThanOrEqual(9 - 0.01);
    for (let i = 0; i < 12; i++) await page.click('button[aria-label^="zoom out"]');
    expect((await zoom()) * 11).toBeGreaterThanOrEqual(9 - 0.01);
    expect(await page.$eval('button[aria-label^="zoom out"]', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    await page.click('button[aria-label^="zoom in"]');
    await page.click('button[aria-label^="zoom in"]');
    expect(await zoom()).toBeGreaterThan(9 / 11);
    await page.click('button[aria-label^="fit"]');
    expect(await zoom()).toBeCloseTo(fitted, 6);
    await page.keyboard.press('Home');
    const first = forwardSteps(json)[0];
    expect(first.op).toBe('input');
    expect((await panel(page)).heading).toBe(`Step 1 of ${forwardSteps(json).length + json.edges.length} · forward pass`);
    expect(await page.$eval('aside section', (s) => s.textContent)).toContain(`${first.label} is an input`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a formula cannot break out of the page: </script> in it stays text', async () => {
    const formula = '(x < 1 ? x : x^2) # </script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">';
    const { file, json } = make('escape', formula, 'x=3');
    const { page, errors } = await open(file);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.$eval('h1', (h) => h.textContent)).toBe(`${formula}  at x = 3`);
    expect(await page.$$eval('img', (i) => i.length)).toBe(0);
    // a node's source text with < in it, on the picture and in the details, as text
    expect(await page.$$eval('g.node text', (ts) => ts.some((t) => t.textContent?.includes('x < 1 ? x : x^2')))).toBe(true);
    await page.click(`#n${json.nodes.length - 1}`);
    expect(await page.$eval('aside section:last-child', (s) => s.textContent)).toContain('sourcex < 1 ? x : x^2');
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe.skipIf(!FIREFOX)('the backprop explorer in Firefox', () => {
  it('the sigmoid neuron, every step, as in Chromium', async () => {
    const ff = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      args: ['--profile', mkdtempSync(join(tmpdir(), 'ag-firefox-'))],
    });
    try {
      const { file, json } = make('firefox-sigmoid', EXAMPLES['the sigmoid neuron'].formula, EXAMPLES['the sigmoid neuron'].at);
      const { page, errors } = await open(file, null, ff);
      await walk(page, json, null);
      expect(errors).toEqual([]);
    } finally {
      await ff.close();
    }
  });
});
