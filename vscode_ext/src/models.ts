// Quick-pick data for "Deploy Model". No `vscode` import.
import type { DeployStage, RegisteredModel } from "./api";

/** Distinct model names, sorted. */
export function modelNames(models: RegisteredModel[]): string[] {
  return [...new Set(models.map((m) => m.name))].sort();
}

export interface RefItem {
  label: string;
  description: string;
  ref: string;
}

/** Aliases first (champion, …), then version numbers newest first, for one model. */
export function modelRefs(models: RegisteredModel[], name: string): RefItem[] {
  const aliases: RefItem[] = [];
  const versions: RefItem[] = [];
  for (const m of models.filter((x) => x.name === name)) {
    const version = String(m.version ?? "");
    const names = m.aliases ?? [];
    for (const a of names) {
      aliases.push({ label: `@${a}`, description: `version ${version}`, ref: a });
    }
    if (version) {
      versions.push({ label: `version ${version}`, description: names.length ? names.map((a) => `@${a}`).join(" ") : "", ref: version });
    }
  }
  versions.sort((a, b) => Number(b.ref) - Number(a.ref));
  return [...aliases, ...versions];
}

/** Progress text for one deploy stage event, e.g. "parity: done (0.4 s)". */
export function stageMessage(s: DeployStage): string {
  const name = s.stage.replace(/_/g, " ");
  return s.state === "start" ? `${name}…` : `${name}: ${s.state}${typeof s.seconds === "number" ? ` (${s.seconds.toFixed(1)} s)` : ""}`;
}

/** "resolve 0.1 s · parity 0.4 s · …" from a deployment's `stage_seconds` (empty when absent). */
export function stageSummary(stageSeconds: unknown): string {
  if (!stageSeconds || typeof stageSeconds !== "object") {
    return "";
  }
  return Object.entries(stageSeconds as Record<string, unknown>)
    .filter((e): e is [string, number] => typeof e[1] === "number")
    .map(([k, v]) => `${k.replace(/_/g, " ")} ${v.toFixed(1)} s`)
    .join(" · ");
}
