import { describe, expect, it } from "vitest";
import { modelNames, modelRefs, stageMessage, stageSummary } from "../src/models";
import { display, monitoringSections } from "../src/monitoring";
import { copilotHtml, csp, makeNonce, tablesHtml } from "../src/webview";

describe("webview pages", () => {
  it("allow only the nonce'd script and no network", () => {
    const nonce = makeNonce();
    const html = copilotHtml("vscode-resource:", nonce);
    expect(html).toContain(`content="${csp("vscode-resource:", nonce)}"`);
    expect(csp("x", nonce)).toMatch(/^default-src 'none';/);
    expect(csp("x", nonce)).not.toMatch(/unsafe-eval|https?:/);
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toContain(`<script nonce="${nonce}">`);
  });

  it.each([copilotHtml("c", "n"), tablesHtml("<img src=x onerror=alert(1)>", "c", "n")])("never uses innerHTML", (html) => {
    expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect(html).toContain("textContent");
    expect(html).not.toContain("<img src=x");
  });

  it("keeps nonces unpredictable", () => {
    expect(makeNonce()).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(makeNonce()).not.toBe(makeNonce());
  });

  it("builds monitoring tables from the server's drift, latency and status shapes", () => {
    // As shipyard/server/routers/monitor.py answers them.
    const drift = {
      drift_detected: true,
      rule: "calibrated",
      features: {
        tenure: { kind: "numeric", method: "ks", statistic: 0.41234567, p_value: 0, threshold: 0.05, drifted: true },
        plan: { kind: "categorical", method: "chi2", statistic: 1.5, p_value: 0.4, threshold: 9.2, drifted: false },
      },
    };
    const latency = {
      deployment: "churn",
      windows: [{ start: "2024-06-01T00:00:00+00:00", end: "x", rows: 10, metrics: { requests: 10, p50_ms: 4.5, p95_ms: 8.55, p99_ms: 8.91, rate_per_s: 0.0166667 } }],
    };
    const status = {
      deployment: "churn",
      open_alerts: ["drift:tenure"],
      events: [{ id: 1, kind: "monitor.alert", title: "feature 'tenure' drifted", delivered: false, created_at: "2024-06-01T01:00:00" }],
    };
    const s = monitoringSections(status, latency, drift);
    expect(s.map((x) => x.title)).toEqual(["Drift per feature — drift detected", "Latency percentiles (ms)", "Alerts (1 open)"]);
    expect(s[0].rows).toEqual([
      ["tenure", "ks", "0.4123", "0.05", "DRIFTED"],
      ["plan", "chi2", "1.5", "9.2", "ok"],
    ]);
    expect(s[1].rows).toEqual([["2024-06-01T00:00:00+00:00", "10", "4.5", "8.55", "8.91", "0.01667"]]);
    expect(s[2].rows).toEqual([
      ["open", "drift:tenure", ""],
      ["monitor.alert", "feature 'tenure' drifted", "2024-06-01T01:00:00"],
    ]);
    expect(s.every((x) => x.note === undefined)).toBe(true);
  });

  it("shows each part's server error (or absence) in its own section", () => {
    const s = monitoringSections({ error: "deployment 'x' not found" }, { deployment: "x", windows: [] }, { error: "no predictions logged" });
    expect(s.map((x) => x.note)).toEqual(["no predictions logged", "no traffic logged yet", "deployment 'x' not found"]);
    expect(s.every((x) => x.rows.length === 0)).toBe(true);
    expect(monitoringSections(null, null, null).map((x) => x.rows)).toEqual([[], [], []]);
  });

  it.each([
    [null, ""],
    [3, "3"],
    [0.123456, "0.1235"],
    ["<b>", "<b>"],
    [true, "true"],
    [{ a: 1 }, '{"a":1}'],
  ])("displays %j as %j", (value, text) => {
    expect(display(value)).toBe(text);
  });
});

describe("deploy quick picks", () => {
  const models = [
    { name: "churn", version: "2", aliases: ["champion"] },
    { name: "churn", version: "3", aliases: [] },
    { name: "arpu", version: "1", aliases: [] },
  ];

  it("words deploy stages and sums up stage_seconds", () => {
    expect(stageMessage({ stage: "load_and_export", state: "start" })).toBe("load and export…");
    expect(stageMessage({ stage: "parity", state: "done", seconds: 0.42 })).toBe("parity: done (0.4 s)");
    expect(stageMessage({ stage: "parity", state: "failed" })).toBe("parity: failed");
    expect(stageSummary({ resolve: 0.12, smoke_inference: 2, bad: "x" })).toBe("resolve 0.1 s · smoke inference 2.0 s");
    expect(stageSummary(undefined)).toBe("");
  });

  it("lists models and refs, aliases first then newest version", () => {
    expect(modelNames(models)).toEqual(["arpu", "churn"]);
    expect(modelRefs(models, "churn").map((r) => r.ref)).toEqual(["champion", "3", "2"]);
    expect(modelRefs(models, "none")).toEqual([]);
  });
});
