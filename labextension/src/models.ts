/** Shapes of the Shipyard REST API's JSON, as the panels read them (see docs/jupyterlab.md). */

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

export interface CatalogColumn {
  name: string;
  type?: string;
  description?: string;
  sensitive?: boolean;
}

export interface LineageEdge {
  src_kind?: string;
  src_name?: string;
  dst_kind?: string;
  dst_name?: string;
  kind?: string;
  name?: string;
  direction?: string;
  relation?: string;
  [key: string]: unknown;
}

export interface CatalogAsset {
  kind: string;
  name: string;
  title?: string;
  description?: string;
  owner?: string;
  tags?: string[];
  source?: string;
  project?: string;
  freshness?: string | null;
  updated_at?: string | null;
  columns?: CatalogColumn[];
  lineage?: LineageEdge[] | { upstream?: LineageEdge[]; downstream?: LineageEdge[] };
}

export interface FeatureMatch {
  kind: string;
  name: string;
  feature_view: string;
  description: string;
  owner: string;
  tags: string[];
  score: number;
}

export interface FeatureStats {
  [key: string]: unknown;
}

export interface FeatureDetail {
  ref: string;
  name: string;
  dtype: string;
  description: string;
  tags: Record<string, string>;
  stats?: FeatureStats | null;
}

export interface FeatureViewDetail {
  name: string;
  description: string;
  owner: string;
  tags: Record<string, string>;
  entities: string[];
  join_keys: string[];
  source: string;
  ttl_s: number | null;
  last_materialized: string | null;
  online: boolean;
  offline: boolean;
  features: FeatureDetail[];
  quality_checks?: string[];
  feature_services?: string[];
  used_by?: Record<string, string>[];
}

export interface StepSpec {
  name: string;
  cells: number[];
  after: string[];
  parameters: Record<string, unknown>;
  resources: Record<string, string>;
}

export interface PromotePreview {
  name: string;
  path: string;
  steps: StepSpec[];
  warnings: string[];
  edges: string[][];
  parameters: Record<string, unknown>;
  applied?: boolean;
  diff?: { new?: boolean; [key: string]: unknown };
}

export interface StepResult {
  name: string;
  status: string;
  duration_s?: number | null;
  output_notebook?: string | null;
  error?: string | null;
}

export interface RunResult {
  run_id: string;
  status: string;
  steps: StepResult[];
  pipeline?: string;
  metrics?: Record<string, unknown>;
  warnings?: string[];
}

export interface ServerStatus {
  version: string;
  workspace: string | null;
  api: string;
  message: string | null;
}

export interface ModelVersion {
  name: string;
  version: string;
  run_id?: string;
  aliases: string[];
  metrics?: Record<string, number>;
  feature_refs?: string[];
  created_at?: string | null;
}

export interface Deployment {
  name: string;
  model_name: string;
  model_version: string;
  status: string;
  triton_model?: string;
  parity_max_abs_diff?: number;
  stage_seconds?: Record<string, number>;
  runtime?: string;
  [key: string]: unknown;
}

export interface DeployStageEvent {
  stage: string;
  state: 'start' | 'done' | 'failed';
  seconds: number | null;
}
