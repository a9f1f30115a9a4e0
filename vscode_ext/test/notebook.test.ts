import { describe, expect, it } from "vitest";
import {
  applyTagEdit,
  cellRanges,
  defaultPipelineName,
  featureGetSnippet,
  filterViews,
  loadCodeFor,
  previewLines,
  tagsOf,
  taggedCellCount,
  toNbformat,
  withTags,
} from "../src/notebook";

describe("cell tags", () => {
  it.each([
    ["current VS Code", { metadata: { tags: ["step:load"] } }],
    ["older VS Code (custom)", { custom: { metadata: { tags: ["step:load"] } } }],
  ])("reads tags from %s metadata", (_v, meta) => {
    expect(tagsOf(meta)).toEqual(["step:load"]);
  });

  it("writes tags where they were and drops an empty list", () => {
    const old = { custom: { metadata: { tags: ["a"], collapsed: true } } };
    expect(withTags(old, ["step:x"])).toEqual({ custom: { metadata: { tags: ["step:x"], collapsed: true } } });
    expect(withTags({ metadata: { tags: ["a"] } }, [])).toEqual({ metadata: {} });
    expect(withTags(undefined, ["skip"])).toEqual({ metadata: { tags: ["skip"] } });
    expect(old.custom.metadata.tags).toEqual(["a"]); // not mutated
  });

  it("keeps one step tag, toggles parameters/skip, clears only Shipyard tags", () => {
    expect(applyTagEdit(["step:a", "mine", "skip"], { kind: "step", name: "b" })).toEqual(["mine", "step:b"]);
    expect(applyTagEdit(["after:a"], { kind: "after", steps: ["b", "c"] })).toEqual(["after:b,c"]);
    expect(applyTagEdit(["after:a"], { kind: "after", steps: [] })).toEqual([]);
    expect(applyTagEdit([], { kind: "parameters" })).toEqual(["parameters"]);
    expect(applyTagEdit(["parameters"], { kind: "parameters" })).toEqual([]);
    expect(applyTagEdit(["step:a", "after:b", "skip", "mine"], { kind: "clear" })).toEqual(["mine"]);
  });

  it.each(["", "1load", "has space", "a-b", "x".repeat(101), "<script>"])("refuses step name %j", (name) => {
    expect(() => applyTagEdit([], { kind: "step", name })).toThrow(/not valid: use letters, digits and _/);
    expect(() => applyTagEdit([], { kind: "after", steps: ["ok", name] })).toThrow(/not valid/);
  });
});

describe("promotion request", () => {
  it("turns 0-based selections into 1-based ranges", () => {
    expect(cellRanges([5, 0, 1, 2, 2])).toEqual(["1-3", "6"]);
    expect(cellRanges([])).toEqual([]);
  });

  it("builds nbformat from editor cells without VS Code's own metadata", () => {
    const nb = toNbformat(
      [
        { kind: "markdown", source: "# T", metadata: { id: "m1" } },
        { kind: "code", source: "a = 1\nb = 2", metadata: { metadata: { tags: ["step:x"], vscode: { languageId: "python" } } } },
      ],
      { metadata: { kernelspec: { name: "python3" } } },
    );
    expect(nb).toMatchObject({ nbformat: 4, metadata: { kernelspec: { name: "python3" } } });
    const cells = nb.cells as Record<string, unknown>[];
    expect(cells[0]).toEqual({ cell_type: "markdown", metadata: {}, source: ["# T"], id: "m1" });
    expect(cells[1]).toEqual({ cell_type: "code", metadata: { tags: ["step:x"] }, source: ["a = 1\n", "b = 2"], execution_count: null, outputs: [] });
  });

  it("refuses a very large notebook with a clear message", () => {
    const big = "x".repeat(21 * 1024 * 1024);
    expect(() => toNbformat([{ kind: "code", source: big, metadata: {} }], {})).toThrow(/more than the .* MB limit; split it/);
  });

  it("counts step-tagged cells (0 for an untagged notebook)", () => {
    expect(taggedCellCount([{ kind: "code", source: "", metadata: { metadata: { tags: ["parameters"] } } }])).toBe(0);
    expect(taggedCellCount([{ kind: "code", source: "", metadata: { metadata: { tags: ["step:a"] } } }])).toBe(1);
  });

  it.each([
    [{ metadata: { shipyard: { name: "churn" } } }, "/w/train.ipynb", "churn"],
    [{}, "/w/My Train (v2).ipynb", "My_Train_v2_"],
    [{}, "/w/__.ipynb", "pipeline"],
  ])("names the pipeline from %j / %s", (meta, file, name) => {
    expect(defaultPipelineName(meta, file)).toBe(name);
  });

  it("describes a preview as quick-pick lines", () => {
    const lines = previewLines({
      name: "p",
      path: "/p",
      steps: [{ name: "load", cells: [2, 3], after: [], parameters: { seed: 1 } }, { name: "train", cells: [4], after: ["load"], parameters: {} }],
      edges: [["load", "train"]],
      parameters: { seed: 1 },
      warnings: ["cell 5 has no tag"],
    });
    expect(lines.map((l) => l.label)).toEqual(["step load", "step train", "edges", "parameters", "warning"]);
    expect(lines[1].description).toBe("cells 4 · after load");
    expect(lines[2].description).toBe("load → train");
  });
});

describe("features", () => {
  const views = [
    { name: "customer_profile", entities: ["customer"], features: ["plan_tier", "autopay"] },
    { name: "customer_activity", entities: ["customer"], features: ["spend_30d"] },
  ];

  it("filters by view or feature words", () => {
    expect(filterViews(views, "")).toHaveLength(2);
    expect(filterViews(views, "PROFILE")).toEqual([views[0]]);
    expect(filterViews(views, "spend")).toEqual([{ ...views[1], features: ["spend_30d"] }]);
    expect(filterViews(views, "profile auto")[0].features).toEqual(["autopay"]);
    expect(filterViews(views, "nothing")).toEqual([]);
  });

  it("writes %feature get and load code", () => {
    expect(featureGetSnippet(["customer_profile:plan_tier"], "customer_id")).toBe("%feature get customer_profile:plan_tier --entity customer_id=VALUE");
    expect(loadCodeFor({ kind: "feature", name: "customer_profile", column: "plan_tier" })).toMatch(/^%feature get customer_profile:plan_tier/);
    expect(loadCodeFor({ kind: "model", name: "churn" })).toBe("# model: churn");
  });
});
