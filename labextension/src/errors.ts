/** API errors as the panels show them: what happened and what to do, from the REST error envelope. */

export type ErrorKind = 'unauthorized' | 'forbidden' | 'unavailable' | 'no_workspace' | 'bad_input' | 'not_found' | 'server' | 'network' | 'timeout';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly kind: ErrorKind,
    readonly detail: unknown = null
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The route does not exist on this server (a service not installed): panels show "not available". */
  get unavailable(): boolean {
    return this.kind === 'unavailable' || this.kind === 'no_workspace';
  }
}

/** Build an ApiError from a status and the response body (the envelope when the API answered). */
export function errorFromResponse(status: number, body: string, what: string): ApiError {
  let code = 'http_error';
  let message = '';
  let detail: unknown = null;
  try {
    const parsed = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && parsed.error && typeof parsed.error === 'object') {
      code = String(parsed.error.code ?? code);
      message = String(parsed.error.message ?? '');
      detail = parsed.error.detail ?? null;
    } else if (parsed && typeof parsed.message === 'string') {
      message = parsed.message;
    }
  } catch {
    message = body.slice(0, 300);
  }
  if (status === 401) {
    return new ApiError(status, code, `${what}: not authenticated (${message || 'no valid token'}). Reload JupyterLab and log in again.`, 'unauthorized', detail);
  }
  if (status === 403) {
    return new ApiError(status, code, `${what}: not allowed (${message || 'forbidden'}). Ask a project admin for the role you need, or reload JupyterLab if your login expired.`, 'forbidden', detail);
  }
  if (status === 503 && code === 'no_workspace') {
    return new ApiError(status, code, message, 'no_workspace', detail);
  }
  // Starlette's own 404 for an unknown route says exactly "Not Found"; a missing asset names the asset.
  if (status === 404 && (message === 'Not Found' || message === '')) {
    return new ApiError(status, code, `${what} is not available on this server (the route is not installed).`, 'unavailable', detail);
  }
  if (status === 404) {
    return new ApiError(status, code, message, 'not_found', detail);
  }
  if (status === 422 || status === 400 || status === 409 || status === 413) {
    return new ApiError(status, code, message || `${what}: bad request`, 'bad_input', detail);
  }
  return new ApiError(status, code, `${what} failed (${status}): ${message || 'server error'}`, 'server', detail);
}

/** A one-line message for any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    return error.message;
  }
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}
