// Quick-pick data for "Deploy Model". No `vscode` import.
import type { RegisteredModel } from "./api";

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
