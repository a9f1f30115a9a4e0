/** The one typed client every panel uses: Jupyter's XSRF/login through ServerConnection, errors mapped. */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { ApiError, errorFromResponse } from './errors';
import {
  CatalogAsset,
  CopilotAnswer,
  Deployment,
  DeployStageEvent,
  FeatureMatch,
  ModelVersion,
  FeatureViewDetail,
  PromotePreview,
  RunResult,
  ServerStatus
} from './models';
import { SseParser } from './sse';

/** How long the run call may take before the panel gives up waiting (the run itself goes on). */
export const RUN_TIMEOUT_MS = 60 * 60 * 1000;

/** The first question after a server start loads the embedder and may index the catalog. */
export const COPILOT_TIMEOUT_MS = 5 * 60 * 1000;

export interface ClientOptions {
  /** Empty: the Jupyter server's /shipyard/api/v1. */
  serverUrl?: string;
  timeoutMs?: number;
}

export interface PromoteBody {
  notebook?: string;
  content?: unknown;
  name?: string;
  cells?: string[];
}

export class ShipyardClient {
  private readonly settings = ServerConnection.makeSettings();

  constructor(private options: ClientOptions = {}) {}

  configure(options: ClientOptions): void {
    this.options = { ...this.options, ...options };
  }

  private apiUrl(path: string): string {
    const base = this.options.serverUrl?.trim();
    if (base) {
      return URLExt.join(base, path);
    }
    return URLExt.join(this.settings.baseUrl, 'shipyard', 'api', 'v1', path);
  }

  private async request(path: string, init: RequestInit, what: string, url?: string, timeoutMs?: number): Promise<Response> {
    const controller = new AbortController();
    const timeout = timeoutMs ?? this.options.timeoutMs ?? 30000;
    const timer = setTimeout(() => controller.abort(), timeout);
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(
        url ?? this.apiUrl(path),
        { ...init, signal: controller.signal, headers: { 'Content-Type': 'application/json', ...(init.headers ?? {}) } },
        this.settings
      );
    } catch (error) {
      clearTimeout(timer);
      if (controller.signal.aborted) {
        throw new ApiError(0, 'timeout', `${what}: the server did not answer within ${Math.round(timeout / 1000)} s. It may be busy; retry.`, 'timeout');
      }
      throw new ApiError(0, 'network', `${what}: cannot reach the Jupyter server (${String(error)}). Is it still running?`, 'network');
    }
    clearTimeout(timer);
    if (!response.ok) {
      throw errorFromResponse(response.status, await response.text(), what);
    }
    return response;
  }

  async json<T>(path: string, what: string, init: RequestInit = {}, timeoutMs?: number): Promise<T> {
    const response = await this.request(path, init, what, undefined, timeoutMs);
    if (response.status === 204) {
      return undefined as T;
    }
    return (await response.json()) as T;
  }

  private post<T>(path: string, body: unknown, what: string): Promise<T> {
    return this.json<T>(path, what, { method: 'POST', body: JSON.stringify(body) });
  }

  /** Which workspace the Jupyter server serves (or why none). */
  async status(): Promise<ServerStatus> {
    const response = await this.request('', { method: 'GET' }, 'Shipyard status', URLExt.join(this.settings.baseUrl, 'shipyard', 'status'));
    return (await response.json()) as ServerStatus;
  }

  /** Ask the copilot; with onToken the answer streams (server-sent events) and onToken sees each piece. */
  async ask(question: string, context: string | null, onToken?: (text: string) => void): Promise<CopilotAnswer> {
    const body: Record<string, unknown> = { question, stream: Boolean(onToken) };
    if (context) {
      body.context = context;
    }
    const init: RequestInit = { method: 'POST', body: JSON.stringify(body) };
    if (onToken) {
      init.headers = { Accept: 'text/event-stream' };
    }
    const response = await this.request('copilot/ask', init, 'The copilot', undefined, COPILOT_TIMEOUT_MS);
    const type = response.headers.get('Content-Type') ?? '';
    if (!onToken || !type.startsWith('text/event-stream') || !response.body) {
      return (await response.json()) as CopilotAnswer;
    }
    return readAnswerStream(response.body, onToken);
  }

  searchCatalog(q: string, kind = '', limit = 20): Promise<{ assets: CatalogAsset[] }> {
    const query = new URLSearchParams({ q, limit: String(limit) });
    if (kind) {
      query.set('kind', kind);
    }
    return this.json(`catalog/assets?${query}`, 'The catalog');
  }

  asset(kind: string, name: string): Promise<CatalogAsset> {
    return this.json(`catalog/assets/${encodeURIComponent(kind)}/${encodeURIComponent(name)}`, 'The catalog');
  }

  searchFeatures(q: string, limit = 50): Promise<FeatureMatch[]> {
    return this.json(`features/search?${new URLSearchParams({ q, limit: String(limit) })}`, 'Feature search');
  }

  featureView(name: string): Promise<FeatureViewDetail> {
    return this.json(`features/views/${encodeURIComponent(name)}`, 'Feature details');
  }

  previewPromote(body: PromoteBody): Promise<PromotePreview> {
    return this.post('pipelines:promote', body, 'Promote preview');
  }

  promote(body: PromoteBody): Promise<PromotePreview> {
    return this.post('pipelines/promote', body, 'Promote');
  }

  runPipeline(name: string, params: Record<string, unknown> = {}): Promise<RunResult> {
    // The call returns when the run ends (minutes for real steps); the dialog polls runs meanwhile.
    const init = { method: 'POST', body: JSON.stringify({ params }) };
    return this.json(`pipelines/${encodeURIComponent(name)}/runs`, 'Pipeline run', init, RUN_TIMEOUT_MS);
  }

  listRuns(name: string, limit = 1): Promise<{ runs: RunResult[] }> {
    return this.json(`pipelines/${encodeURIComponent(name)}/runs?limit=${limit}`, 'Pipeline runs');
  }

  /** Registered models: the latest and every aliased version of each. */
  models(): Promise<ModelVersion[]> {
    return this.json('models', 'The model registry');
  }

  /**
   * Deploy a registered model. With ``onStage`` it asks for a stream of stage events (``stage`` events, then
   * one ``deployment``); a server that answers plain JSON reports the stages only once the deploy ends.
   */
  async deploy(body: { model: string; ref: string; name?: string }, onStage?: (event: DeployStageEvent) => void): Promise<Deployment> {
    const init: RequestInit = { method: 'POST', body: JSON.stringify(body) };
    if (onStage) {
      init.headers = { Accept: 'text/event-stream, application/json' };
    }
    const response = await this.request('deployments', init, 'Deploy', undefined, RUN_TIMEOUT_MS);
    const type = response.headers.get('Content-Type') ?? '';
    if (!onStage || !type.startsWith('text/event-stream') || !response.body) {
      return (await response.json()) as Deployment;
    }
    return readDeployStream(response.body, onStage);
  }

  deployments(): Promise<unknown> {
    return this.json('deployments', 'Deployments');
  }

  monitor(name: string, what: 'status' | 'drift' | 'latency' | 'performance'): Promise<Record<string, unknown>> {
    return this.json(`monitor/deployments/${encodeURIComponent(name)}/${what}`, `Monitoring (${what})`);
  }
}

/** Read an event stream of `token` events then one `answer` (or `error`) event. */
export async function readAnswerStream(body: ReadableStream<Uint8Array>, onToken: (text: string) => void): Promise<CopilotAnswer> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  let answer: CopilotAnswer | null = null;
  let streamed = '';
  for (;;) {
    const { value, done } = await reader.read();
    const events = done ? parser.feed(decoder.decode() + '\n\n') : parser.feed(decoder.decode(value, { stream: true }));
    for (const event of events) {
      if (event.event === 'token') {
        const text = String(JSON.parse(event.data).text ?? '');
        streamed += text;
        onToken(text);
      } else if (event.event === 'answer') {
        answer = JSON.parse(event.data) as CopilotAnswer;
      } else if (event.event === 'error') {
        const parsed = JSON.parse(event.data);
        const error = parsed.error ?? parsed;
        throw new ApiError(500, String(error.code ?? 'copilot_error'), String(error.message ?? event.data), 'server');
      }
    }
    if (done) {
      break;
    }
  }
  if (answer === null) {
    if (!streamed) {
      throw new ApiError(502, 'stream_ended', 'The copilot stream ended before an answer arrived; retry.', 'server');
    }
    return { answer: streamed, citations: [] };
  }
  return answer;
}

/** Read a deploy's event stream: ``stage`` events ({stage, state, seconds}), then ``deployment`` (or ``error``). */
export async function readDeployStream(body: ReadableStream<Uint8Array>, onStage: (event: DeployStageEvent) => void): Promise<Deployment> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  for (;;) {
    const { value, done } = await reader.read();
    const events = done ? parser.feed(decoder.decode() + '\n\n') : parser.feed(decoder.decode(value, { stream: true }));
    for (const event of events) {
      if (event.event === 'stage') {
        onStage(JSON.parse(event.data) as DeployStageEvent);
      } else if (event.event === 'deployment') {
        return JSON.parse(event.data) as Deployment;
      } else if (event.event === 'error') {
        const parsed = JSON.parse(event.data);
        const error = parsed.error ?? parsed;
        throw new ApiError(500, String(error.code ?? 'deploy_failed'), String(error.message ?? event.data), 'server', error.detail ?? null);
      }
    }
    if (done) {
      throw new ApiError(502, 'stream_ended', 'The deploy stream ended before the deployment was reported; check `shipyard deploy list` and retry.', 'server');
    }
  }
}
