// Tables for "Show Monitoring" from the server's monitor responses. No `vscode` import.
// Shapes (shipyard/server/routers/monitor.py): drift -> {drift_detected, features: {name: {method,
// statistic, threshold, drifted}}}; latency -> {windows: [{start, end, rows, metrics: {p50_ms, ...}}]};
// status -> {open_alerts: ["drift:tenure", ...], events: [{kind, title, created_at}], windows, ...}.

export interface Section {
  title: string;
  columns: string[];
  rows: string[][];
  /** Shown instead of an empty table (e.g. why the server could not answer). */
  note?: string;
}

/** A monitor response, or `{error: message}` when the server refused that part. */
export type Fetched = Record<string, unknown>;

type Obj = Record<string, unknown>;

function asObj(v: unknown): Obj | undefined {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** Text for a table cell: numbers rounded to 4 significant digits, objects as compact JSON. */
export function display(v: unknown): string {
  if (v === null || v === undefined) {
    return "";
  }
  if (typeof v === "number") {
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  }
  if (typeof v === "string") {
    return v;
  }
  if (typeof v === "boolean" || typeof v === "bigint") {
    return String(v);
  }
  return JSON.stringify(v);
}

function failed(r: Fetched | null): string | undefined {
  return r && typeof r.error === "string" ? r.error : undefined;
}

function driftSection(drift: Fetched | null): Section {
  const rows: string[][] = [];
  for (const [name, v] of Object.entries(asObj(drift?.features) ?? {})) {
    const f = asObj(v) ?? {};
    rows.push([name, display(f.method), display(f.statistic), display(f.threshold), f.drifted ? "DRIFTED" : "ok"]);
  }
  const verdict = drift && "drift_detected" in drift ? (drift.drift_detected ? " — drift detected" : " — no drift") : "";
  return {
    title: `Drift per feature${verdict}`,
    columns: ["feature", "method", "statistic", "threshold", "drifted"],
    rows,
    note: failed(drift) ?? (rows.length ? undefined : "no drift report yet"),
  };
}

function latencySection(latency: Fetched | null): Section {
  const windows = Array.isArray(latency?.windows) ? (latency.windows as unknown[]) : [];
  const rows = windows.map((w) => {
    const win = asObj(w) ?? {};
    const m = asObj(win.metrics) ?? {};
    return [display(win.start), display(m.requests ?? win.rows), display(m.p50_ms), display(m.p95_ms), display(m.p99_ms), display(m.rate_per_s)];
  });
  return {
    title: "Latency percentiles (ms)",
    columns: ["window start", "requests", "p50", "p95", "p99", "req/s"],
    rows,
    note: failed(latency) ?? (rows.length ? undefined : "no traffic logged yet"),
  };
}

function alertsSection(status: Fetched | null): Section {
  const open = Array.isArray(status?.open_alerts) ? (status.open_alerts as unknown[]) : [];
  const events = Array.isArray(status?.events) ? (status.events as unknown[]) : [];
  const rows: string[][] = open.map((a) => ["open", display(a), ""]);
  for (const e of events) {
    const ev = asObj(e) ?? {};
    rows.push([display(ev.kind), display(ev.title), display(ev.created_at)]);
  }
  return {
    title: `Alerts (${open.length} open)`,
    columns: ["state / event", "alert", "at"],
    rows,
    note: failed(status) ?? (rows.length ? undefined : "no alerts"),
  };
}

/** The monitoring page's sections: drift per feature, latency percentiles per window, alerts. */
export function monitoringSections(status: Fetched | null, latency: Fetched | null, drift: Fetched | null): Section[] {
  return [driftSection(drift), latencySection(latency), alertsSection(status)];
}
