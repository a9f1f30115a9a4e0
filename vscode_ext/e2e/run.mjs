// End-to-end in a real VS Code (code-server) driven by playwright-core + Debian's Chromium.
// Env: CODE_SERVER_URL, WORKSPACE, SHIPYARD_URL, SHIPYARD_TOKEN, ARTIFACTS, PIPELINE (name to create);
// optional: MONITORED (a deployment with logged traffic), LOCAL_SERVER_URL + SHIPYARD_EXE (for "Start Local
// Server": the workspace settings point the extension at LOCAL_SERVER_URL, where nothing listens yet).
// A failing step is recorded (with a screenshot) and the later steps still run, unless the workbench or
// sign-in failed. Prints one JSON line {ok, timings, outcome, errors}; exits 1 only when it could not start.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const env = (k) => {
  if (!process.env[k]) throw new Error(`set ${k}`);
  return process.env[k];
};
const CS = env("CODE_SERVER_URL");
const WORKSPACE = env("WORKSPACE");
const API = env("SHIPYARD_URL");
const TOKEN = env("SHIPYARD_TOKEN");
const ART = env("ARTIFACTS");
const PIPELINE = process.env.PIPELINE ?? "churn_vscode";
mkdirSync(ART, { recursive: true });

const timings = {};
const outcome = {};
const errors = {};
const ONLY = process.env.E2E_STEPS ? process.env.E2E_STEPS.split(",") : null; // for debugging one step
async function step(name, fn, { fatal = false } = {}) {
  if (ONLY && !ONLY.includes(name)) return;
  const t0 = Date.now();
  try {
    await fn();
  } catch (err) {
    await page.screenshot({ path: `${ART}/vscode-FAILED-${name}.png` }).catch(() => undefined);
    errors[name] = String(err.stack ?? err.message);
    await page.keyboard.press("Escape").catch(() => undefined); // close a quick pick left open
    if (fatal) throw new Error(`step '${name}' failed: ${err.message}`, { cause: err });
  }
  timings[name] = (Date.now() - t0) / 1000;
}
async function webviewFrame(selector, what) {
  for (let i = 0; i < 120; i++) {
    for (const f of page.frames()) {
      if (await f.locator(selector).count().catch(() => 0)) return f;
    }
    await page.waitForTimeout(500);
  }
  throw new Error(`the ${what} webview did not render`);
}
async function api(path) {
  const res = await fetch(`${API}/api/v1${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return res.json();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
const quick = page.locator(".quick-input-widget");
const quickInput = quick.locator("input.input");

async function palette(command) {
  // No Escape first: in a notebook it would collapse a multi-cell selection.
  await page.keyboard.press("F1");
  await quick.waitFor({ state: "visible" });
  await quickInput.fill(`>${command}`);
  await quick.locator(".quick-input-list .monaco-list-row", { hasText: command }).first().waitFor();
  await page.keyboard.press("Enter");
}
async function notification(text, timeout = 60_000) {
  const toast = page.locator(".notification-toast", { hasText: text }).first();
  await toast.waitFor({ timeout });
  return toast;
}

try {
  await step("open_workbench", async () => {
    await page.goto(`${CS}/?folder=${encodeURIComponent(WORKSPACE)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 90_000 });
    await page.locator(".statusbar-item", { hasText: "Shipyard" }).first().waitFor({ timeout: 60_000 });
  }, { fatal: true });

  await step("sign_in", async () => {
    await palette("Shipyard: Sign In");
    await quick.locator(".quick-input-title", { hasText: "Shipyard: Sign In" }).waitFor();
    await quickInput.fill(TOKEN);
    await page.keyboard.press("Enter");
    await notification("signed in");
    const status = page.locator(".statusbar-item", { hasText: /Shipyard \d/ }).first();
    await status.waitFor({ timeout: 30_000 });
    outcome.status_bar = await status.innerText();
    await page.screenshot({ path: `${ART}/vscode-1-signed-in.png` });
  }, { fatal: true });

  await step("browse_features", async () => {
    await palette("Shipyard: Browse Features");
    const pane = page.locator(".pane", { has: page.locator(".pane-header", { hasText: "Features" }) });
    for (const name of ["customer_profile", "customer_activity", "plan_tier"]) {
      // The first GET /features/views opens the feature store: slow on a busy CI machine.
      await pane.locator(".monaco-list-row", { hasText: name }).first().waitFor({ timeout: 90_000 });
    }
    outcome.features = await pane.locator(".monaco-list-row").count();
    await page.screenshot({ path: `${ART}/vscode-2-features.png` });
  });

  await step("promote_selected_cells", async () => {
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+P");
    await quick.waitFor({ state: "visible" });
    await quickInput.fill("train.ipynb");
    await quick.locator(".quick-input-list .monaco-list-row", { hasText: "train.ipynb" }).first().waitFor();
    await page.keyboard.press("Enter");
    const firstCode = page.locator(".notebookOverlay .code-cell-row", { hasText: "numpy" }).first();
    await firstCode.waitFor({ timeout: 60_000 });
    // Select every cell: edit the first code cell, leave to command mode, go up to the markdown cell, then
    // extend the selection down over the other five.
    await firstCode.locator(".view-line").first().click();
    await page.keyboard.press("Escape");
    await page.keyboard.press("ArrowUp");
    for (let i = 0; i < 5; i++) await page.keyboard.press("Shift+ArrowDown");
    await page.locator(".statusbar-item", { hasText: "6 selected" }).first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: `${ART}/vscode-3-cells-selected.png` });
    await palette("Shipyard: Promote Selected Cells to Pipeline");
    await quick.locator(".quick-input-title", { hasText: "pipeline name" }).waitFor();
    await quickInput.fill(PIPELINE);
    await page.keyboard.press("Enter");
    await quick.locator(".quick-input-list .monaco-list-row", { hasText: "Create pipeline" }).waitFor({ timeout: 60_000 });
    await quick.locator(".quick-input-list .monaco-list-row", { hasText: "step load" }).waitFor();
    outcome.preview_rows = await quick.locator(".quick-input-list .monaco-list-row").allInnerTexts();
    await page.screenshot({ path: `${ART}/vscode-3-promote-preview.png` });
    await quick.locator(".quick-input-list .monaco-list-row", { hasText: "Create pipeline" }).click();
    await notification(`pipeline '${PIPELINE}' created`);
    await page.screenshot({ path: `${ART}/vscode-4-promoted.png` });
    const listed = await api("/pipelines");
    if (!listed.pipelines.includes(PIPELINE)) throw new Error(`REST /pipelines lacks ${PIPELINE}: ${JSON.stringify(listed)}`);
  });

  await step("run_pipeline", async () => {
    const toast = await notification(`pipeline '${PIPELINE}' created`);
    await toast.locator(".monaco-button", { hasText: "Run Now" }).click();
    await notification(`pipeline '${PIPELINE}' finished`, 420_000);
    await page.screenshot({ path: `${ART}/vscode-5-run.png` });
  });

  await step("ask_copilot", async () => {
    await palette("Shipyard: Ask Copilot");
    await quick.locator(".quick-input-title", { hasText: "Ask Copilot" }).waitFor();
    await quickInput.fill("Which features describe customer activity? <img src=x onerror=alert(1)>");
    await page.keyboard.press("Enter");
    const frame = await webviewFrame("#log", "copilot");
    await frame.locator(".citations .cite, .err").first().waitFor({ timeout: 120_000 });
    outcome.copilot = (await frame.locator(".citations .cite").count()) > 0 ? "cited answer" : (await frame.locator(".err").innerText());
    if (await frame.locator("#log img").count()) throw new Error("server/user text was rendered as HTML");
    if (outcome.copilot === "cited answer") {
      outcome.first_citation = await frame.locator(".citations .cite").first().innerText();
      await frame.locator(".citations .cite").first().click(); // opens the cited asset's details
      await page.locator(".monaco-editor .view-line", { hasText: '"kind"' }).first().waitFor({ timeout: 30_000 });
    }
    await page.screenshot({ path: `${ART}/vscode-6-copilot.png` });
  });

  await step("deploy_model", async () => {
    await palette("Shipyard: Deploy Model");
    await quick.locator(".quick-input-title", { hasText: "registered model" }).waitFor({ timeout: 30_000 });
    await quick.locator(".quick-input-list .monaco-list-row", { hasText: "churn" }).first().click();
    await quick.locator(".quick-input-title", { hasText: "version or alias" }).waitFor();
    await quick.locator(".quick-input-list .monaco-list-row", { hasText: "@champion" }).first().waitFor();
    await page.screenshot({ path: `${ART}/vscode-7-deploy-ref.png` });
    await quick.locator(".quick-input-list .monaco-list-row", { hasText: "@champion" }).first().click();
    await quick.locator(".quick-input-title", { hasText: "deployment name" }).waitFor();
    outcome.deploy_name_default = await quickInput.inputValue();
    await page.screenshot({ path: `${ART}/vscode-8-deploy-name.png` });
    await page.keyboard.press("Escape"); // serving needs Triton, which the e2e server runs without
  });

  await step("edit_cell_tags", async () => {
    await page.keyboard.press("Escape");
    // Select the last cell (the `step:evaluate` one, in view after promoting).
    await page.locator(".notebookOverlay .code-cell-row").last().locator(".view-line").last().click();
    await page.keyboard.press("Escape");
    await palette("Shipyard: Edit Cell Tags");
    await quick.locator(".quick-input-title", { hasText: "now: step:evaluate" }).waitFor();
    await quick.locator(".quick-input-list .monaco-list-row", { hasText: "skip" }).first().click();
    await page.keyboard.press("Control+S");
    const deadline = Date.now() + 20_000;
    for (;;) {
      const nb = JSON.parse(readFileSync(`${WORKSPACE}/notebooks/train.ipynb`, "utf8"));
      outcome.tags_after_edit = nb.cells[5].metadata.tags;
      if (outcome.tags_after_edit?.includes("skip")) break;
      if (Date.now() > deadline) throw new Error(`cell 6 tags not saved: ${JSON.stringify(outcome.tags_after_edit)}`);
      await page.waitForTimeout(300);
    }
    await page.screenshot({ path: `${ART}/vscode-9-cell-tags.png` });
  });
  await step("copilot_insert_code", async () => {
    if (outcome.copilot !== "cited answer") {
      outcome.inserted = "no citation to insert from";
      return;
    }
    // Work in the notebook (its last cell selected, in view since Edit Cell Tags), then click "insert load
    // code" in the copilot panel: the webview has focus by then, so the code goes to the notebook used last,
    // below that cell.
    await page.keyboard.press("Escape");
    await page.locator(".notebookOverlay .code-cell-row").last().locator(".view-line").last().click();
    await page.keyboard.press("Escape");
    await page.locator(".tab", { hasText: "Shipyard Copilot" }).first().click();
    const frame = await webviewFrame("#log .citations", "copilot");
    await frame.locator(".citations .cite", { hasText: "insert load code" }).first().click();
    const cell = page.locator(".notebookOverlay .code-cell-row", { hasText: "%feature get" }).first();
    await cell.waitFor({ timeout: 30_000 });
    outcome.inserted = (await cell.locator(".view-lines").innerText()).replace(/\u00a0/g, " ").trim();
    await page.screenshot({ path: `${ART}/vscode-9b-copilot-insert.png` });
  });

  await step("pipelines_tree", async () => {
    await page.keyboard.press("Escape");
    await palette("Shipyard: Show Pipeline Runs");
    const pane = page.locator(".pane", { has: page.locator(".pane-header", { hasText: "Pipelines" }) });
    const row = pane.locator(".monaco-list-row", { hasText: PIPELINE }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.click(); // expands the pipeline into its runs
    const run = pane.locator(".monaco-list-row", { hasText: "succeeded" }).first();
    await run.waitFor({ timeout: 30_000 });
    outcome.pipeline_rows = await pane.locator(".monaco-list-row").allInnerTexts();
    await page.screenshot({ path: `${ART}/vscode-10-pipeline-runs.png` });
    await run.click(); // the run's JSON (steps, metrics) opens beside
    await page.locator(".monaco-editor .view-line", { hasText: '"run_id"' }).first().waitFor({ timeout: 30_000 });
    outcome.run_details = true;
  });

  await step("show_monitoring", async () => {
    const monitored = env("MONITORED");
    await palette("Shipyard: Show Monitoring");
    await quick.locator(".quick-input-title", { hasText: "Show Monitoring" }).waitFor({ timeout: 30_000 });
    await quick.locator(".quick-input-list .monaco-list-row", { hasText: monitored }).first().click();
    const frame = await webviewFrame("#root table", "monitoring");
    const table = (title) => frame.locator(`table[data-section^="${title}"]`);
    await table("Alerts").waitFor({ timeout: 30_000 });
    outcome.monitoring = {
      headings: await frame.locator("h3").allInnerTexts(),
      drift: await table("Drift").locator("tr").allInnerTexts(),
      latency: await table("Latency").locator("tr").allInnerTexts(),
      alerts: await table("Alerts").locator("tr").allInnerTexts(),
    };
    await page.screenshot({ path: `${ART}/vscode-11-monitoring.png` });
  });

  await step("start_local_server", async () => {
    const local = env("LOCAL_SERVER_URL");
    // Point the extension at a port where nothing listens (workspace settings, as a user would for one
    // folder; code-server does not watch the user settings file for outside edits): it goes offline.
    mkdirSync(`${WORKSPACE}/.vscode`, { recursive: true });
    const settings = { "shipyard.serverUrl": local, "shipyard.shipyardPath": env("SHIPYARD_EXE"), "shipyard.serverArgs": ["--no-serve"] };
    writeFileSync(`${WORKSPACE}/.vscode/settings.json`, JSON.stringify(settings, null, 1));
    await page.locator(".statusbar-item", { hasText: "Shipyard: offline" }).first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: `${ART}/vscode-12-offline.png` });
    await palette("Shipyard: Start Local Server");
    await page.locator(".statusbar-item", { hasText: /Shipyard \d/ }).first().waitFor({ timeout: 150_000 });
    const health = await (await fetch(`${local}/api/v1/health`)).json();
    outcome.local_server = { health: health.status, status_bar: await page.locator(".statusbar-item", { hasText: /Shipyard \d/ }).first().innerText() };
    await page.screenshot({ path: `${ART}/vscode-13-local-server.png` });
  });
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ok: Object.keys(errors).length === 0, timings, outcome, errors }));
