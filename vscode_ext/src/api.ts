// Typed client of the Shipyard REST API. No `vscode` import: unit-tested against a real local HTTP server.

export type ApiErrorKind = "unreachable" | "unauthorized" | "forbidden" | "not_available" | "invalid" | "server";

/** An API failure a user can act on: `kind` picks the fix offered, `message` says what happened. */
export class ShipyardApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly status = 0,
    readonly code = "",
    readonly detail: unknown = null,
  ) {
    super(message);
    this.name = "ShipyardApiError";
  }
}

/** `GET /whoami`: who the token is and its role in the server's project. */
export interface WhoAmI {
  name: string;
  kind: string;
  project: string;
  role: string | null;
  version: string;
}

export interface FeatureView {
  name: string;
  entities: string[];
  features: string[];
  ttl_s?: number | null;
  source?: string;
}
export interface PipelineStep {
  name: string;
  cells: number[];
  after: string[];
  parameters: Record<string, unknown>;
}
export interface PromoteResult {
  name: string;
  path: string;
  steps: PipelineStep[];
  edges: [string, string][];
  parameters: Record<string, unknown>;
  warnings: string[];
  diff?: { new?: boolean; added?: string[]; removed?: string[] };
  applied?: boolean;
}
export interface PromoteRequest {
  notebook?: string;
  content?: unknown;
  name?: string;
  cells?: string[];
}
export interface Citation {
  kind: string;
  name: string;
  column?: string | null;
  score?: number;
  snippet?: string;
}
export interface CopilotAnswer {
  answer: string;
  citations: Citation[];
  timings_ms?: Record<string, number>;
}
/** One registered model version (`GET /models` lists the latest and every aliased version). */
export interface RegisteredModel {
  name: string;
  version?: string | number;
  aliases?: string[];
  [key: string]: unknown;
}

/** The `{"error": {...}}` envelope mapped to an error kind with a message that says what to do. */
export function errorFromResponse(status: number, body: unknown, path: string): ShipyardApiError {
  const env = (body as { error?: { code?: string; message?: string; detail?: unknown } } | null)?.error;
  const message = env?.message ?? `HTTP ${status}`;
  const code = env?.code ?? "";
  if (status === 401) {
    return new ShipyardApiError("unauthorized", `Shipyard rejected the token (${message}). Sign in again.`, status, code);
  }
  if (status === 403) {
    return new ShipyardApiError("forbidden", `Not allowed: ${message}. Ask the project admin for a role.`, status, code);
  }
  if (status === 404 && (code === "not_found" || code === "") && message === "Not Found") {
    // FastAPI's bare 404 means the route itself is missing: an older server or a feature not installed.
    return new ShipyardApiError("not_available", `${path} is not available on this server (update Shipyard).`, status, code);
  }
  if (status === 400 || status === 404 || status === 409 || status === 413 || status === 422) {
    return new ShipyardApiError("invalid", message, status, code, env?.detail ?? null);
  }
  return new ShipyardApiError("server", `Shipyard server error ${status}: ${message}`, status, code, env?.detail ?? null);
}

/** Thin REST client; every method is one call to `/api/v1`. */
export class ShipyardClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 120_000,
  ) {}

  private url(path: string): string {
    return `${this.baseUrl.replace(/\/+$/, "")}/api/v1${path}`;
  }

  /** Send one request and return the parsed JSON body, or throw a ShipyardApiError. */
  async request<T>(method: string, path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    const res = await this.raw(method, path, body, timeoutMs);
    if (res.status === 204) {
      return undefined as T;
    }
    return (await res.json()) as T;
  }

  private async raw(method: string, path: string, body: unknown, timeoutMs: number, accept = "application/json"): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (this.token) {
      headers.authorization = `Bearer ${this.token}`;
    }
    if (body !== undefined) {
      headers["content-type"] = "application/json";
    }
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const why = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      throw new ShipyardApiError(
        "unreachable",
        `Cannot reach the Shipyard server at ${this.baseUrl} (${why}). Start it with 'shipyard server' or fix shipyard.serverUrl.`,
      );
    }
    if (!res.ok) {
      let parsed: unknown;
      try {
        parsed = await res.json();
      } catch {
        parsed = null; // a non-JSON error body (proxy page): the status alone says enough
      }
      throw errorFromResponse(res.status, parsed, path);
    }
    return res;
  }

  /** `GET /health` (no credentials needed). */
  health(): Promise<{ status: string; version: string }> {
    return this.request("GET", "/health", undefined, 5_000);
  }

  /** Check that the token is accepted; says who it is and its role in the server's project. */
  whoami(): Promise<WhoAmI> {
    return this.request("GET", "/whoami", undefined, 10_000);
  }

  featureViews(): Promise<FeatureView[]> {
    return this.request("GET", "/features/views");
  }

  searchFeatures(q: string, limit = 50): Promise<unknown[]> {
    return this.request("GET", `/features/search?q=${encodeURIComponent(q)}&limit=${limit}`);
  }

  describeView(name: string): Promise<Record<string, unknown>> {
    return this.request("GET", `/features/views/${encodeURIComponent(name)}?stats=false`);
  }

  previewPromotion(req: PromoteRequest): Promise<PromoteResult> {
    return this.request("POST", "/pipelines:promote", req);
  }

  promote(req: PromoteRequest): Promise<PromoteResult> {
    return this.request("POST", "/pipelines/promote", req);
  }

  async pipelines(): Promise<string[]> {
    return (await this.request<{ pipelines: string[] }>("GET", "/pipelines")).pipelines;
  }

  async runs(name: string, limit = 20): Promise<Record<string, unknown>[]> {
    return (await this.request<{ runs: Record<string, unknown>[] }>("GET", `/pipelines/${encodeURIComponent(name)}/runs?limit=${limit}`)).runs;
  }

  runPipeline(name: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.request("POST", `/pipelines/${encodeURIComponent(name)}/runs`, { params }, 30 * 60_000);
  }

  async models(): Promise<RegisteredModel[]> {
    const body = await this.request<RegisteredModel[] | { models: RegisteredModel[] }>("GET", "/models");
    return Array.isArray(body) ? body : body.models;
  }

  /**
   * Deploy a model version. With `onStage` it accepts `text/event-stream` progress (`event: stage` {stage,
   * state, seconds}, then `event: deployment`), as the JupyterLab extension does; a server that answers plain
   * JSON is fine too (no stage events then).
   */
  async deploy(model: string, ref: string, name?: string, onStage?: (s: DeployStage) => void): Promise<Record<string, unknown>> {
    const accept = onStage ? "text/event-stream, application/json" : "application/json";
    const res = await this.raw("POST", "/deployments", { model, ref, name }, 30 * 60_000, accept);
    if (!(res.headers.get("content-type") ?? "").includes("text/event-stream")) {
      return (await res.json()) as Record<string, unknown>;
    }
    let deployment: Record<string, unknown> | undefined;
    await readEvents(res, (ev) => {
      const data = JSON.parse(ev.data) as unknown;
      if (ev.event === "stage") {
        onStage?.(data as DeployStage);
      } else if (ev.event === "deployment") {
        deployment = data as Record<string, unknown>;
      } else if (ev.event === "error") {
        const e = (data as { error?: { message?: string } }).error;
        throw new ShipyardApiError("server", `Deploy failed: ${e?.message ?? ev.data}`);
      }
    });
    if (!deployment) {
      throw new ShipyardApiError("server", "The deploy stream ended without a result; check 'shipyard deployments'.");
    }
    return deployment;
  }

  async deployments(): Promise<Record<string, unknown>[]> {
    const body = await this.request<Record<string, unknown>[] | { deployments: Record<string, unknown>[] }>("GET", "/deployments");
    return Array.isArray(body) ? body : body.deployments;
  }

  monitorStatus(name: string): Promise<Record<string, unknown>> {
    return this.request("GET", `/monitor/deployments/${encodeURIComponent(name)}/status`);
  }

  latency(name: string): Promise<Record<string, unknown>> {
    return this.request("GET", `/monitor/deployments/${encodeURIComponent(name)}/latency`);
  }

  drift(name: string): Promise<Record<string, unknown>> {
    return this.request("GET", `/monitor/deployments/${encodeURIComponent(name)}/drift`);
  }

  asset(kind: string, name: string): Promise<Record<string, unknown>> {
    return this.request("GET", `/catalog/assets/${encodeURIComponent(kind)}/${name.split("/").map(encodeURIComponent).join("/")}`);
  }

  ask(question: string, context = ""): Promise<CopilotAnswer> {
    return this.request("POST", "/copilot/ask", { question, context, stream: false });
  }

  /** Stream an answer: `onToken` gets each text piece; resolves to the final answer. */
  async askStream(question: string, context: string, onToken: (text: string) => void): Promise<CopilotAnswer> {
    const res = await this.raw("POST", "/copilot/ask", { question, context, stream: true }, this.timeoutMs);
    if (!(res.headers.get("content-type") ?? "").includes("text/event-stream")) {
      return (await res.json()) as CopilotAnswer;
    }
    let answer: CopilotAnswer | undefined;
    const handle = (ev: SseEvent): void => {
      const data = JSON.parse(ev.data) as unknown;
      if (ev.event === "token") {
        onToken((data as { text: string }).text);
      } else if (ev.event === "answer") {
        answer = data as CopilotAnswer;
      } else if (ev.event === "error") {
        const e = (data as { error?: { message?: string } }).error;
        throw new ShipyardApiError("server", `Copilot failed: ${e?.message ?? ev.data}`);
      }
    };
    await readEvents(res, handle);
    if (!answer) {
      throw new ShipyardApiError("server", "Copilot stream ended without an answer; try again.");
    }
    return answer;
  }
}

/** One deploy stage as the server reports it ("start", then "done" or "failed" with its seconds). */
export interface DeployStage {
  stage: string;
  state: string;
  seconds?: number;
}

/** Feed a `text/event-stream` response body through `handle`, event by event. */
async function readEvents(res: Response, handle: (ev: SseEvent) => void): Promise<void> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true })).forEach(handle);
  }
  parser.feed("\n\n").forEach(handle);
}

export interface SseEvent {
  event: string;
  data: string;
}

/** Incremental `text/event-stream` parser: feed chunks, get whole events. */
export class SseParser {
  private buffer = "";

  feed(chunk: string): SseEvent[] {
    this.buffer = (this.buffer + chunk).replace(/\r\n/g, "\n");
    const events: SseEvent[] = [];
    let cut: number;
    while ((cut = this.buffer.indexOf("\n\n")) >= 0) {
      const block = this.buffer.slice(0, cut);
      this.buffer = this.buffer.slice(cut + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) {
          event = line.slice(6).trim();
        } else if (line.startsWith("data:")) {
          data.push(line.slice(5).replace(/^ /, ""));
        }
      }
      if (data.length > 0) {
        events.push({ event, data: data.join("\n") });
      }
    }
    return events;
  }
}
