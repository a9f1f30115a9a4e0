// Drives Debian's Chromium through JupyterLab with Shipyard, one scenario per run (see test_lab.py).
// Prints one JSON line per step; exits 1 with a screenshot on the first failure.
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'labextension', 'package.json'));
const { chromium } = require('playwright-core');

const LAB = process.env.LAB_URL;
const TOKEN = process.env.LAB_TOKEN;
const ARTIFACTS = process.env.ARTIFACTS;
const EXPECT_COPILOT = process.env.EXPECT_COPILOT ?? 'citation';
const scenario = process.argv[2];
mkdirSync(ARTIFACTS, { recursive: true });

const t0 = Date.now();
const record = (step, extra = {}) => console.log(JSON.stringify({ scenario, step, ms: Date.now() - t0, ...extra }));

async function openLab(page, pathPart = '') {
  // A workspace per scenario (reset), so no layout leaks from one scenario to the next.
  await page.goto(`${LAB}lab/workspaces/${scenario}${pathPart}?reset&token=${TOKEN}`);
  await page.waitForSelector('#jp-main-dock-panel', { timeout: 90000 });
  await page.waitForSelector('.jp-Launcher, .jp-NotebookPanel', { timeout: 90000 });
  record('lab loaded');
}

async function palette(page, label) {
  const input = page.locator('.lm-CommandPalette-input:visible').first();
  // The modal palette closes when something takes the focus (e.g. a kernel finishing its start): reopen it.
  for (let attempt = 1; ; attempt++) {
    await page.locator('#jp-main-dock-panel').click({ position: { x: 5, y: 5 } }).catch(() => undefined);
    await page.keyboard.press('Control+Shift+C');
    await input.waitFor({ state: 'visible', timeout: 15000 });
    try {
      await input.fill(label, { timeout: 5000 });
      break;
    } catch (error) {
      const focus = await page.evaluate(() => document.activeElement?.className ?? '');
      record('palette closed before typing', { attempt, focus });
      if (attempt === 3) {
        throw error;
      }
    }
  }
  const item = page.locator('.lm-CommandPalette-item:visible', { hasText: label }).first();
  await item.waitFor({ timeout: 15000 });
  await item.click();
  record(`palette: ${label}`);
}

async function shot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  record('screenshot', { file });
}

async function xssProbeInert(page) {
  const state = await page.evaluate(() => ({
    flag: window.__shipyardXss ?? null,
    images: document.querySelectorAll('img[src="x"]').length,
    scripts: [...document.querySelectorAll('script')].filter(s => s.textContent.includes('__shipyardXss')).length
  }));
  if (state.flag !== null || state.images || state.scripts) {
    throw new Error(`catalog text became markup: ${JSON.stringify(state)}`);
  }
}

const scenarios = {
  async copilot(page) {
    await openLab(page);
    await palette(page, 'Shipyard: Ask Copilot');
    const panel = page.locator('[data-testid=shipyard-copilot]');
    await panel.waitFor();
    await page.fill('[data-testid=shipyard-question]', 'where is the cleaned transaction history with refund flags?');
    await page.click('[data-testid=shipyard-ask]');
    record('asked', { expect: EXPECT_COPILOT });
    if (EXPECT_COPILOT === 'citation') {
      const chip = page.locator('[data-testid=shipyard-citation]').first();
      await chip.waitFor({ timeout: 180000 });
      const answer = await page.locator('[data-testid=shipyard-answer]').last().innerText();
      if (!/transactions_clean/.test(answer)) {
        throw new Error(`answer does not name the table: ${answer.slice(0, 300)}`);
      }
      record('citation', { label: await chip.innerText() });
      await chip.click();
      await page.locator('[data-testid=shipyard-asset-details]').waitFor({ timeout: 30000 });
      record('asset details');
    } else {
      await page.locator('[data-testid=shipyard-copilot-unavailable]').waitFor({ timeout: 60000 });
      record('unavailable state');
    }
    await shot(page, 'copilot');
  },

  async features(page) {
    await openLab(page);
    await palette(page, 'Shipyard: Browse Features');
    await page.locator('[data-testid=shipyard-features]').waitFor();
    await page.fill('[data-testid=shipyard-feature-query]', 'spend');
    await page.click('[data-testid=shipyard-feature-search]');
    const hit = page.locator('[data-testid=shipyard-feature-hit]', { hasText: 'spend_30d' }).first();
    await hit.waitFor({ timeout: 60000 });
    record('search hit');
    await hit.click();
    const details = page.locator('[data-testid=shipyard-feature-details]');
    await details.waitFor({ timeout: 60000 });
    const text = await details.innerText();
    if (!text.includes('customer_activity') || !text.includes('spend_30d')) {
      throw new Error(`details miss the view or feature: ${text.slice(0, 300)}`);
    }
    record('feature details');
    await shot(page, 'features');
  },

  async xss(page) {
    await openLab(page);
    await palette(page, 'Shipyard: Browse Features');
    await page.fill('[data-testid=shipyard-feature-query]', 'probe');
    await page.click('[data-testid=shipyard-feature-search]');
    const hit = page.locator('[data-testid=shipyard-feature-hit]', { hasText: 'xss_probe' }).first();
    await hit.waitFor({ timeout: 60000 });
    const text = await hit.innerText();
    if (!text.includes('<img src=x')) {
      throw new Error(`the description should show as text: ${text}`);
    }
    await hit.click(); // not a Feast view: the panel shows the API's error, also as text
    await page.locator('.jp-shipyard-error').first().waitFor({ timeout: 30000 });
    await page.waitForTimeout(500);
    await xssProbeInert(page);
    record('inert');
    await shot(page, 'xss');
  },

  async promote(page) {
    await openLab(page, '/tree/notebooks/tiny.ipynb');
    const cells = page.locator('.jp-NotebookPanel .jp-Cell');
    await cells.nth(2).waitFor({ timeout: 60000 });
    // The command is in the cell context menu...
    await cells.nth(0).locator('.jp-InputPrompt').click({ button: 'right' });
    const menuItem = page.locator('.lm-Menu-item', { hasText: 'Shipyard: Promote selected cells to pipeline' });
    await menuItem.waitFor({ timeout: 10000 });
    await page.keyboard.press('Escape');
    record('context menu item');
    // ...and in the palette; select the first two cells, then promote them.
    await cells.nth(0).locator('.jp-InputPrompt').click();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Shift+ArrowDown');
    const selected = await page.locator('.jp-NotebookPanel .jp-Cell.jp-mod-selected').count();
    if (selected !== 2) {
      throw new Error(`expected 2 selected cells, got ${selected}`);
    }
    record('selected two cells');
    await palette(page, 'Shipyard: Promote selected cells to pipeline');
    await page.locator('[data-testid=shipyard-promote-preview]').waitFor({ timeout: 60000 });
    const steps = await page.locator('[data-testid=shipyard-promote-step]').allInnerTexts();
    if (steps.length !== 2 || !steps[0].includes('make') || !steps[1].includes('double')) {
      throw new Error(`preview steps: ${JSON.stringify(steps)}`);
    }
    await page.locator('[data-testid=shipyard-dag]').waitFor();
    record('preview', { steps: steps.length });
    await shot(page, 'promote-preview');
    await page.click('[data-testid=shipyard-promote-create]');
    await page.locator('[data-testid=shipyard-promote-run]').waitFor({ timeout: 60000 });
    record('created');
    await page.click('[data-testid=shipyard-promote-run]');
    const run = page.locator('[data-testid=shipyard-run][data-status=succeeded], [data-testid=shipyard-run][data-status=failed], [data-testid=shipyard-promote-error]');
    await run.first().waitFor({ timeout: 180000 });
    const status = await page.locator('[data-testid=shipyard-run]').getAttribute('data-status');
    await shot(page, 'promote-run');
    if (status !== 'succeeded') {
      throw new Error(`run ended ${status}: ${await page.locator('.jp-shipyard-promote').innerText()}`);
    }
    const stepStates = await page.locator('[data-testid=shipyard-run-step]').evaluateAll(rows => rows.map(r => r.getAttribute('data-status')));
    record('run succeeded', { steps: stepStates });
  },

  async celltags(page) {
    await openLab(page, '/tree/notebooks/chips.ipynb');
    const cells = page.locator('.jp-NotebookPanel .jp-Cell');
    await cells.nth(2).waitFor({ timeout: 60000 });
    const rows = page.locator('[data-testid=shipyard-celltags]');
    await rows.nth(2).waitFor({ timeout: 30000 });
    const first = await rows.nth(0).locator('[data-testid=shipyard-tagchip]').allInnerTexts();
    if (!first.some(t => t.includes('step: load'))) {
      throw new Error(`first cell chips: ${JSON.stringify(first)}`);
    }
    record('chips shown', { first });
    const third = rows.nth(2);
    // Add a valid tag.
    // Typed key by key: notebook shortcuts (a, b, d d, ...) must not fire while the tag box has focus.
    await third.locator('[data-testid=shipyard-tag-add]').click();
    await third.locator('[data-testid=shipyard-tag-input]').pressSequentially('after:load');
    await third.locator('[data-testid=shipyard-tag-input]').press('Enter');
    await third.locator('[data-testid=shipyard-tagchip][data-tag="after:load"]').waitFor({ timeout: 10000 });
    const count = await cells.count();
    if (count !== 3) {
      throw new Error(`typing in the tag box changed the notebook: ${count} cells`);
    }
    record('added after:load');
    // An invalid one is refused with the bridge's message and nothing is written.
    await third.locator('[data-testid=shipyard-tag-add]').click();
    await third.locator('[data-testid=shipyard-tag-input]').fill('parameters');
    await third.locator('[data-testid=shipyard-tag-save]').click();
    const error = await third.locator('[data-testid=shipyard-tag-error]').innerText({ timeout: 10000 });
    if (!/give one cell two roles/.test(error)) {
      throw new Error(`expected the two-roles error, got: ${error}`);
    }
    if (await third.locator('[data-testid=shipyard-tagchip][data-tag="parameters"]').count()) {
      throw new Error('the invalid tag was written');
    }
    record('invalid refused', { error });
    await shot(page, 'celltags-error');
    await third.locator('[data-testid=shipyard-tag-input]').press('Escape');
    // Edit a chip in place, then remove one.
    await third.locator('[data-testid=shipyard-tagchip][data-tag="step:train"] .jp-shipyard-tagchip-label').click();
    await third.locator('[data-testid=shipyard-tag-input]').fill('step:fit');
    await third.locator('[data-testid=shipyard-tag-input]').press('Enter');
    await third.locator('[data-testid=shipyard-tagchip][data-tag="step:fit"]').waitFor({ timeout: 10000 });
    record('edited step:train -> step:fit');
    await rows.nth(1).locator('[data-testid=shipyard-tagchip][data-tag="skip"] [data-testid=shipyard-tagchip-remove]').click();
    await rows.nth(1).locator('[data-testid=shipyard-tagchip][data-tag="skip"]').waitFor({ state: 'detached', timeout: 10000 });
    record('removed skip');
    // The cell property inspector reads the same metadata: the chips wrote real cell tags.
    await page.keyboard.press('Control+s');
    await page.waitForTimeout(1500);
    await shot(page, 'celltags');
  },

  async widgets(page) {
    await openLab(page, '/tree/notebooks/widgets.ipynb');
    const cell = page.locator('.jp-NotebookPanel .jp-Cell').first();
    await cell.waitFor({ timeout: 60000 });
    // Run only once the kernel is connected and idle (a cell run before that is silently dropped).
    await page.locator('#jp-main-statusbar', { hasText: '| Idle' }).waitFor({ timeout: 90000 });
    record('kernel idle');
    await cell.locator('.jp-InputPrompt').click();
    await page.keyboard.press('Shift+Enter');
    // Live: an ipywidgets progress bar (rendered by jupyterlab_widgets) that moves in place.
    const bar = cell.locator('.jp-OutputArea .jupyter-widgets.widget-hprogress');
    await bar.first().waitFor({ timeout: 90000 });
    await cell.locator('.jp-OutputArea', { hasText: '2/3 part2' }).waitFor({ timeout: 30000 });
    record('live widget', { bars: await bar.count() });
    await shot(page, 'widgets-live');
    // Done: the widget gives way to the static HTML of the final state, in the same output.
    await cell.locator('.jp-OutputArea progress').waitFor({ timeout: 30000 });
    const text = await cell.locator('.jp-OutputArea').innerText();
    if (!text.includes('3/3 part3 [done]') || (await bar.count()) !== 0) {
      throw new Error(`final output: ${text}`);
    }
    record('final text', { text });
  },

  async deploy(page) {
    await openLab(page);
    // From the palette: the dialog lists the registered model and its aliases.
    await palette(page, 'Shipyard: Deploy model');
    const dialog = page.locator('[data-testid=shipyard-deploy]');
    await dialog.locator('[data-testid=shipyard-deploy-model]').waitFor({ timeout: 60000 });
    const refs = await dialog.locator('[data-testid=shipyard-deploy-ref] option').allInnerTexts();
    if (!refs.some(r => r.startsWith('@champion'))) {
      throw new Error(`alias choices: ${JSON.stringify(refs)}`);
    }
    record('dialog from palette', { refs });
    await page.locator('.jp-Dialog .jp-mod-reject').click();
    await dialog.waitFor({ state: 'detached' });
    // From the side panel: "Deploy…" on the model opens the same dialog for it.
    await palette(page, 'Shipyard: Browse Models');
    const model = page.locator('[data-testid=shipyard-model]', { hasText: process.env.DEPLOY_MODEL }).first();
    await model.waitFor({ timeout: 60000 });
    await model.locator('[data-testid=shipyard-model-deploy]').click();
    await dialog.locator('[data-testid=shipyard-deploy-model]').waitFor({ timeout: 60000 });
    await dialog.locator('[data-testid=shipyard-deploy-name]').fill(process.env.DEPLOY_NAME);
    await dialog.locator('[data-testid=shipyard-deploy-start]').click();
    await dialog.locator('[data-testid=shipyard-deploy-stages]').waitFor({ timeout: 10000 });
    record('deploying');
    await shot(page, 'deploy-running');
    const end = dialog.locator('[data-testid=shipyard-deploy-result], [data-testid=shipyard-deploy-error]');
    await end.first().waitFor({ timeout: 240000 });
    const stages = await dialog.locator('[data-testid=shipyard-deploy-stage]').evaluateAll(rows => rows.map(r => [r.getAttribute('data-stage'), r.getAttribute('data-state')]));
    await shot(page, 'deploy');
    if (await dialog.locator('[data-testid=shipyard-deploy-error]').count()) {
      throw new Error(`deploy failed: ${await dialog.innerText()}`);
    }
    record('deployed', { stages, result: await dialog.locator('[data-testid=shipyard-deploy-result]').innerText() });
  },

  async monitor(page) {
    await openLab(page);
    await palette(page, 'Shipyard: Open Monitoring');
    await page.locator('[data-testid=shipyard-monitor]').waitFor({ timeout: 30000 });
    await page.locator('[data-testid=shipyard-monitor-empty], [data-testid=shipyard-deployment]').first().waitFor({ timeout: 60000 });
    record('monitoring view');
    await shot(page, 'monitor');
  }
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
});
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const consoleErrors = [];
page.on('pageerror', e => consoleErrors.push(String(e)));
let failed = false;
try {
  if (!scenarios[scenario]) {
    throw new Error(`unknown scenario ${scenario}; one of ${Object.keys(scenarios).join(', ')}`);
  }
  await scenarios[scenario](page);
  record('done', { pageErrors: consoleErrors });
} catch (error) {
  failed = true;
  record('failed', { error: String(error && error.stack ? error.stack : error), pageErrors: consoleErrors });
  await page.screenshot({ path: path.join(ARTIFACTS, `${scenario}-failure.png`) }).catch(() => undefined);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
