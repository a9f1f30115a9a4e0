import { describe, expect, it } from "vitest";
import { modelNames, modelRefs } from "../src/models";
import { copilotHtml, csp, makeNonce, monitoringSections, tablesHtml } from "../src/webview";

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

  it("builds monitoring tables from whatever the server sends", () => {
    const s = monitoringSections(
      { alerts: [{ kind: "drift", feature: "plan_tier" }], healthy: false },
      { p50_ms: 1.2, p99_ms: 3.4 },
      { features: [{ feature: "plan_tier", psi: 0.4, drifted: true }] },
    );
    expect(s.map((x) => x.title)).toEqual(["Drift per feature", "Latency", "Alerts", "Status"]);
    expect(s[0].rows).toEqual([["plan_tier", "0.4", "true"]]);
    expect(s[1].rows).toEqual([["p50_ms", "1.2"], ["p99_ms", "3.4"]]);
    expect(monitoringSections(null, null, null)[0].rows).toEqual([]);
  });
});

describe("deploy quick picks", () => {
  const models = [
    { name: "churn", version: "2", aliases: ["champion"] },
    { name: "churn", version: "3", aliases: [] },
    { name: "arpu", version: "1", aliases: [] },
  ];

  it("lists models and refs, aliases first then newest version", () => {
    expect(modelNames(models)).toEqual(["arpu", "churn"]);
    expect(modelRefs(models, "churn").map((r) => r.ref)).toEqual(["champion", "3", "2"]);
    expect(modelRefs(models, "none")).toEqual([]);
  });
});
