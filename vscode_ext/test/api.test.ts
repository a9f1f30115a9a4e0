import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShipyardApiError, ShipyardClient, SseParser, errorFromResponse } from "../src/api";

const TOKEN = "shp_test";
let server: Server;
let base = "";
const seen: { method: string; url: string; body: string; auth: string }[] = [];

function handler(req: IncomingMessage, res: ServerResponse): void {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", body, auth: req.headers.authorization ?? "" });
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    if (req.url === "/api/v1/health") {
      return json(200, { status: "ok", version: "0.1.0" });
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      return json(401, { error: { code: "unauthorized", message: "invalid token", detail: null } });
    }
    if (req.url === "/api/v1/whoami") {
      return json(200, { name: "alice", kind: "user", project: "churn", role: "editor", version: "0.1.0" });
    }
    if (req.url === "/api/v1/features/views") {
      return json(200, [{ name: "customer_profile", entities: ["customer"], features: ["plan_tier"] }]);
    }
    if (req.url === "/api/v1/forbidden") {
      return json(403, { error: { code: "forbidden", message: "you may not read project x", detail: null } });
    }
    if (req.url === "/api/v1/pipelines:promote") {
      return json(422, { error: { code: "invalid_input", message: "no pipeline name", detail: { field: "name" } } });
    }
    if (req.url === "/api/v1/boom") {
      res.writeHead(502, { "content-type": "text/html" });
      return res.end("<html>bad gateway</html>");
    }
    if (req.url === "/api/v1/copilot/ask") {
      const stream = (JSON.parse(body) as { stream?: boolean }).stream;
      const answer = { answer: "Use plan_tier.", citations: [{ kind: "feature", name: "customer_profile", column: "plan_tier", score: 0.9, snippet: "<img src=x onerror=alert(1)>" }] };
      if (!stream) {
        return json(200, answer);
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      // Split mid-event to check the parser joins chunks.
      res.write('event: token\ndata: {"text": "Use "}\n\nevent: tok');
      res.write('en\ndata: {"text": "plan_tier."}\n\n');
      res.end(`event: answer\ndata: ${JSON.stringify(answer)}\n\n`);
      return;
    }
    if (req.url === "/api/v1/deployments") {
      const { name } = JSON.parse(body) as { name: string };
      const stream = (req.headers.accept ?? "").startsWith("text/event-stream");
      const deployment = { name, status: "ready", stage_seconds: { resolve: 0.12, parity: 0.4 } };
      if (!stream || name === "plain") {
        return json(201, deployment); // today's server: JSON only, stage_seconds at the end
      }
      res.writeHead(201, { "content-type": "text/event-stream" });
      res.write('event: stage\ndata: {"stage": "resolve", "state": "start"}\n\n');
      res.write('event: stage\ndata: {"stage": "resolve", "state": "done", "seconds": 0.12}\n\n');
      if (name === "broken") {
        res.end('event: error\ndata: {"error": {"message": "parity failed: max abs diff 0.3"}}\n\n');
      } else {
        res.end(name === "cut" ? "" : `event: deployment\ndata: ${JSON.stringify(deployment)}\n\n`);
      }
      return;
    }
    json(404, { detail: "Not Found", error: { code: "not_found", message: "Not Found", detail: null } });
  });
}

beforeAll(async () => {
  server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function failure(p: Promise<unknown>): Promise<ShipyardApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ShipyardApiError);
    return err as ShipyardApiError;
  }
  throw new Error("expected a failure");
}

describe("ShipyardClient", () => {
  it("sends the bearer token and parses JSON", async () => {
    const views = await new ShipyardClient(`${base}/`, TOKEN).featureViews();
    expect(views[0].features).toEqual(["plan_tier"]);
    expect(seen.at(-1)?.auth).toBe(`Bearer ${TOKEN}`);
  });

  it("asks whoami for the token's identity, and a rejected token is a sign-in error", async () => {
    const me = await new ShipyardClient(base, TOKEN).whoami();
    expect(me).toMatchObject({ name: "alice", project: "churn", role: "editor" });
    expect(seen.at(-1)?.url).toBe("/api/v1/whoami");
    expect((await failure(new ShipyardClient(base, "shp_bad").whoami())).kind).toBe("unauthorized");
  });

  it.each([
    ["no token", undefined, "/features/views", "unauthorized", /Sign in again/],
    ["wrong token", "shp_bad", "/features/views", "unauthorized", /invalid token/],
    ["forbidden", TOKEN, "/forbidden", "forbidden", /Ask the project admin/],
    ["missing route", TOKEN, "/catalog/assets", "not_available", /not available on this server/],
    ["non-JSON 502", TOKEN, "/boom", "server", /502/],
  ])("maps %s to a clear error", async (_case, token, path, kind, message) => {
    const err = await failure(new ShipyardClient(base, token).request("GET", path));
    expect(err.kind).toBe(kind);
    expect(err.message).toMatch(message);
  });

  it("keeps the server's message and detail for bad input", async () => {
    const err = await failure(new ShipyardClient(base, TOKEN).previewPromotion({ content: {} }));
    expect(err.kind).toBe("invalid");
    expect(err.message).toBe("no pipeline name");
    expect(err.detail).toEqual({ field: "name" });
  });

  it("says how to fix an unreachable server", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await failure(new ShipyardClient(`http://127.0.0.1:${port}`, TOKEN).health());
    expect(err.kind).toBe("unreachable");
    expect(err.message).toMatch(/Start it with 'shipyard server' or fix shipyard.serverUrl/);
  });

  it("streams copilot tokens then the cited answer", async () => {
    const tokens: string[] = [];
    const answer = await new ShipyardClient(base, TOKEN).askStream("which plan?", "", (t) => tokens.push(t));
    expect(tokens).toEqual(["Use ", "plan_tier."]);
    expect(answer.citations[0].column).toBe("plan_tier");
    expect(JSON.parse(seen.at(-1)?.body ?? "{}")).toMatchObject({ question: "which plan?", stream: true });
  });
});

describe("deploy progress", () => {
  it("reports each stage from a streaming server and returns the deployment", async () => {
    const stages: string[] = [];
    const dep = await new ShipyardClient(base, TOKEN).deploy("churn", "champion", "churn", (s) => stages.push(`${s.stage}:${s.state}`));
    expect(stages).toEqual(["resolve:start", "resolve:done"]);
    expect(dep).toMatchObject({ name: "churn", status: "ready" });
    expect(JSON.parse(seen.at(-1)?.body ?? "{}")).toEqual({ model: "churn", ref: "champion", name: "churn" });
  });

  it("accepts a plain JSON answer (no stage events)", async () => {
    const stages: string[] = [];
    const dep = await new ShipyardClient(base, TOKEN).deploy("churn", "1", "plain", (s) => stages.push(s.stage));
    expect(stages).toEqual([]);
    expect(dep.stage_seconds).toEqual({ resolve: 0.12, parity: 0.4 });
  });

  it.each([
    ["broken", /Deploy failed: parity failed/],
    ["cut", /ended without a result/],
  ])("fails clearly when the stream %s", async (name, message) => {
    const err = await failure(new ShipyardClient(base, TOKEN).deploy("churn", "1", name, () => undefined));
    expect(err.message).toMatch(message);
  });
});

describe("SseParser", () => {
  it("joins multi-line data and ignores comments", () => {
    const p = new SseParser();
    expect(p.feed(": ping\n\nevent: token\r\ndata: a\r\ndata: b\r\n\r")).toEqual([]);
    expect(p.feed("\n")).toEqual([{ event: "token", data: "a\nb" }]);
  });
});

describe("errorFromResponse", () => {
  it("treats a domain 404 (a missing feature view) as bad input, not a missing route", () => {
    const err = errorFromResponse(404, { error: { code: "not_found", message: "no feature view 'x'", detail: null } }, "/features/views/x");
    expect(err.kind).toBe("invalid");
  });
});
