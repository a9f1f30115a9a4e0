// Notebook logic for promote and cell tags. No `vscode` import: unit-tested.
import type { PromoteResult } from "./api";

/** The parts of a VS Code notebook cell that promotion needs. */
export interface CellInfo {
  kind: "code" | "markdown";
  source: string;
  metadata: Record<string, unknown>;
}

/** Largest notebook (bytes of cell source) sent to the server in one request. */
export const MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024;

type Meta = Record<string, unknown>;

function asObject(value: unknown): Meta | undefined {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Meta) : undefined;
}

/** Where the Jupyter cell metadata lives inside VS Code's cell metadata (it moved between VS Code versions). */
function jupyterMeta(meta: Meta): Meta | undefined {
  const custom = asObject(meta.custom);
  return asObject(custom?.metadata) ?? asObject(meta.metadata);
}

/** The cell's Jupyter `tags` (as JupyterLab writes them). */
export function tagsOf(meta: Meta | undefined): string[] {
  const tags = jupyterMeta(meta ?? {})?.tags;
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === "string") : [];
}

/** A copy of VS Code cell metadata with Jupyter `tags` replaced (empty: the key is removed, as JupyterLab does). */
export function withTags(meta: Meta | undefined, tags: string[]): Meta {
  const out: Meta = structuredClone(meta ?? {});
  const custom = asObject(out.custom);
  const holder: Meta = custom && asObject(custom.metadata) ? custom : out;
  const jmeta: Meta = { ...(asObject(holder.metadata) ?? {}) };
  if (tags.length > 0) {
    jmeta.tags = tags;
  } else {
    delete jmeta.tags;
  }
  holder.metadata = jmeta;
  return out;
}

export type TagEdit =
  | { kind: "step"; name: string }
  | { kind: "after"; steps: string[] }
  | { kind: "parameters" }
  | { kind: "skip" }
  | { kind: "clear" };

const STEP_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

/** Check a step name the way the bridge does; returns an error message or undefined. */
export function stepNameError(name: string): string | undefined {
  return STEP_NAME.test(name)
    ? undefined
    : `step name '${name}' is not valid: use letters, digits and _ (not starting with a digit), at most 100 characters`;
}

/** Apply one tag edit: a cell has at most one `step:`/`after:` tag; `parameters` and `skip` toggle. */
export function applyTagEdit(tags: string[], edit: TagEdit): string[] {
  const keep = (prefix: string): string[] => tags.filter((t) => !t.startsWith(prefix));
  switch (edit.kind) {
    case "step": {
      const err = stepNameError(edit.name);
      if (err) {
        throw new Error(err);
      }
      return [...keep("step:").filter((t) => t !== "skip"), `step:${edit.name}`];
    }
    case "after": {
      edit.steps.forEach((s) => {
        const err = stepNameError(s);
        if (err) {
          throw new Error(err);
        }
      });
      const rest = keep("after:");
      return edit.steps.length > 0 ? [...rest, `after:${edit.steps.join(",")}`] : rest;
    }
    case "parameters":
    case "skip":
      return tags.includes(edit.kind) ? tags.filter((t) => t !== edit.kind) : [...tags, edit.kind];
    case "clear":
      return tags.filter((t) => !/^(step:|after:)/.test(t) && t !== "parameters" && t !== "skip");
  }
}

/** 0-based selected cell indices as the API's 1-based ranges (`[0,1,2,5]` -> `["1-3", "6"]`). */
export function cellRanges(indices: number[]): string[] {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const out: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) {
      j++;
    }
    out.push(i === j ? `${sorted[i] + 1}` : `${sorted[i] + 1}-${sorted[j] + 1}`);
    i = j + 1;
  }
  return out;
}

function splitSource(source: string): string[] {
  return source.length === 0 ? [] : source.split(/(?<=\n)/);
}

/** The notebook as nbformat 4 JSON (the editor's current, possibly unsaved, state). */
export function toNbformat(cells: CellInfo[], notebookMeta: Meta | undefined): Meta {
  let bytes = 0;
  const nbCells = cells.map((cell) => {
    bytes += cell.source.length;
    const jmeta = { ...(jupyterMeta(cell.metadata) ?? {}) };
    delete jmeta.vscode; // VS Code's own cell state, not nbformat
    const base: Meta = { cell_type: cell.kind, metadata: jmeta, source: splitSource(cell.source) };
    const id = cell.metadata.id;
    if (typeof id === "string") {
      base.id = id;
    }
    return cell.kind === "code" ? { ...base, execution_count: null, outputs: [] } : base;
  });
  if (bytes > MAX_NOTEBOOK_BYTES) {
    throw new Error(
      `the notebook has ${Math.round(bytes / 1e6)} MB of source, more than the ${MAX_NOTEBOOK_BYTES / 1e6} MB limit; split it or promote selected cells from a smaller notebook`,
    );
  }
  const nm = asObject(notebookMeta) ?? {};
  const inner = asObject(asObject(nm.custom)?.metadata) ?? asObject(nm.metadata) ?? {};
  return { nbformat: 4, nbformat_minor: 5, metadata: inner, cells: nbCells };
}

/** Number of cells carrying promotion tags (0 means there is nothing to promote). */
export function taggedCellCount(cells: CellInfo[]): number {
  return cells.filter((c) => tagsOf(c.metadata).some((t) => t.startsWith("step:"))).length;
}

/** Default pipeline name from notebook metadata `shipyard.name`, else the file name. */
export function defaultPipelineName(notebookMeta: Meta | undefined, fileName: string): string {
  const nm = asObject(notebookMeta) ?? {};
  const inner = asObject(asObject(nm.custom)?.metadata) ?? asObject(nm.metadata) ?? {};
  const fromMeta = asObject(inner.shipyard)?.name;
  if (typeof fromMeta === "string" && fromMeta) {
    return fromMeta;
  }
  const base = fileName.split(/[\\/]/).pop() ?? "pipeline";
  const cleaned = base.replace(/\.ipynb$/i, "").replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^[^A-Za-z0-9]+/, "");
  return cleaned.slice(0, 100) || "pipeline";
}

export interface PreviewLine {
  label: string;
  description: string;
  detail?: string;
}

/** Quick-pick lines describing a promotion preview: steps, edges, parameters, warnings. */
export function previewLines(p: PromoteResult): PreviewLine[] {
  const lines: PreviewLine[] = p.steps.map((s) => ({
    label: `step ${s.name}`,
    description: `cells ${s.cells.join(", ")}${s.after.length ? ` · after ${s.after.join(", ")}` : ""}`,
    detail: Object.keys(s.parameters).length ? `parameters: ${Object.keys(s.parameters).join(", ")}` : undefined,
  }));
  if (p.edges.length) {
    lines.push({ label: "edges", description: p.edges.map(([a, b]) => `${a} → ${b}`).join(", ") });
  }
  const params = Object.entries(p.parameters);
  if (params.length) {
    lines.push({ label: "parameters", description: params.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ") });
  }
  for (const w of p.warnings) {
    lines.push({ label: "warning", description: w });
  }
  return lines;
}

/** The `%feature get` line for a feature (or every feature of a view) and an entity key. */
export function featureGetSnippet(refs: string[], joinKey: string): string {
  return `%feature get ${refs.join(" ")} --entity ${joinKey}=VALUE`;
}

/** Views (and their features) matching every word of `query`, case-insensitively; views keep matching features only. */
export function filterViews<V extends { name: string; features: string[] }>(views: V[], query: string): V[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) {
    return views;
  }
  const hit = (text: string): boolean => words.every((w) => text.toLowerCase().includes(w));
  const out: V[] = [];
  for (const v of views) {
    if (hit(v.name)) {
      out.push(v);
      continue;
    }
    const features = v.features.filter((f) => hit(`${v.name} ${f}`));
    if (features.length) {
      out.push({ ...v, features });
    }
  }
  return out;
}

/** Code that loads a cited asset: `%feature get` for features, a comment pointing at anything else. */
export function loadCodeFor(c: { kind: string; name: string; column?: string | null }): string {
  if (c.kind === "feature_view" || c.kind === "feature") {
    const ref = c.kind === "feature" || c.column ? `${c.name}${c.column ? `:${c.column}` : ""}` : c.name;
    return featureGetSnippet([ref], "customer_id");
  }
  if (c.kind === "table") {
    return `import shipyard\ndf = shipyard.open_workspace().catalog.read(${JSON.stringify(c.name)})  # ${c.kind} ${c.name}`;
  }
  return `# ${c.kind}: ${c.name}${c.column ? ` (column ${c.column})` : ""}`;
}
