// A real HTTP relay in front of the daemon that changes chosen answers: it answers some requests
// itself (a 409 that never clears), rewrites the JSON the daemon gave (a container that still
// reports running, a lost OOMKilled flag, a wrong HostConfig.Memory, health stuck in `starting`),
// rewrites a request before the daemon sees it (a stop without a grace period), or drops lines of
// a stream (events that never arrive). `berth validate --prove` runs scenarios through it to show
// that each check fails when the daemon's answer it relies on is wrong.
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { DockerEndpoint } from "../engine/docker-host.js";
import type { OperationClass } from "../engine/operations.js";
import { createTransport } from "../engine/transport.js";
import { classifyRequest } from "../proxy/classify-request.js";
import { serveTempSocket } from "./fault-proxy.js";

/** Any JSON value a rule may read or write. */
// biome-ignore lint/suspicious/noExplicitAny: answers are the daemon's free-form JSON.
export type Json = any;

interface RelayRequest {
  method: string;
  /** Path and query without the API version prefix: `/containers/abc/json?size=false`. */
  path: string;
}

export interface RelayRule {
  /** The method the rule applies to (any when absent). */
  method?: string;
  /** Matched against the path and query without the version prefix. */
  path: RegExp;
  /** Matching requests let through unchanged before the rule starts (default 0). */
  after?: number;
  /** How many matching requests the rule changes (every one when absent). */
  times?: number;
  /** Answer this instead of asking the daemon. */
  answer?: { status: number; body?: Json };
  /** Rewrite the path and query before the daemon sees it. */
  request?(path: string): string;
  /** Rewrite a JSON answer, read whole (only JSON answers, never streams; the status is kept). */
  json?(body: Json, req: RelayRequest): Json;
  /** Drop lines of a streamed JSON-lines answer (events): answer false to drop one. */
  keepLine?(line: Json): boolean;
  /**
   * Answer this when the daemon cannot be reached, instead of dropping the client's connection:
   * a socket proxy that hides a daemon restart behind an HTTP error.
   */
  unreachable?: { status: number; body?: Json };
}

interface AnswerRelay {
  /** DOCKER_HOST for clients that should see the changed answers. */
  readonly dockerHost: string;
  /** Requests a rule changed, per rule index. */
  readonly changed: number[];
  /**
   * Requests matching `count` open at the daemon now and at most so far (from the request's
   * arrival to the end of the daemon's answer): in-flight work as the daemon's side sees it.
   */
  readonly counted: { open: number; most: number; total: number };
  close(): Promise<void>;
}

const VERSION_PREFIX = /^\/v\d+(?:\.\d+)?(?=\/)/;

function classOf(method: string, url: string): OperationClass | undefined {
  const classified = classifyRequest(method, url);
  return classified.ok ? classified.request.class : undefined;
}

function requestOf(req: IncomingMessage): RelayRequest {
  return { method: req.method ?? "GET", path: (req.url ?? "/").replace(VERSION_PREFIX, "") };
}

function withoutLengthHeaders(headers: IncomingMessage["headers"]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || key === "content-length" || key === "transfer-encoding") continue;
    out[key] = value;
  }
  return out;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: Json,
  headers: Record<string, string | string[]> = {},
) {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(text ? { "content-type": "application/json" } : {}),
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Picks the rule that changes a request, counting what each rule let through and changed. */
function ruleMatcher(rules: RelayRule[]) {
  const changed = rules.map(() => 0);
  const seen = rules.map(() => 0);
  const pick = (req: RelayRequest): { rule: RelayRule; change(): void } | undefined => {
    for (const [index, rule] of rules.entries()) {
      if (rule.method && rule.method !== req.method) continue;
      if (!rule.path.test(req.path)) continue;
      seen[index]! += 1;
      if (seen[index]! <= (rule.after ?? 0)) continue;
      if (rule.times !== undefined && changed[index]! >= rule.times) continue;
      return {
        rule,
        change: () => {
          changed[index]! += 1;
        },
      };
    }
    return undefined;
  };
  return { changed, pick };
}

/** Answers with the daemon's JSON answer as `rewrite` changes it (read whole). */
function sendRewritten(answer: IncomingMessage, res: ServerResponse, rewrite: (body: Json) => Json): void {
  const chunks: Buffer[] = [];
  answer.on("data", (chunk: Buffer) => chunks.push(chunk));
  answer.on("end", () => {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
    sendJson(res, answer.statusCode ?? 502, rewrite(body), withoutLengthHeaders(answer.headers));
  });
}

/** Streams the daemon's JSON-lines answer on, without the lines `keep` refuses. */
function sendFiltered(answer: IncomingMessage, res: ServerResponse, keep: (line: Json) => boolean): void {
  res.writeHead(answer.statusCode ?? 502, withoutLengthHeaders(answer.headers));
  let pending = "";
  answer.on("data", (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.trim()) continue;
      let kept = true;
      try {
        kept = keep(JSON.parse(line));
      } catch {
        kept = true;
      }
      if (kept) res.write(`${line}\n`);
    }
  });
  answer.on("end", () => res.end(pending));
}

/** Attach and exec upgrade their connection: relayed as raw bytes both ways, unchanged. */
function relayUpgrade(connect: () => Socket) {
  return (req: IncomingMessage, client: Socket, head: Buffer) => {
    const daemon = connect();
    const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    daemon.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length > 0) daemon.write(head);
    daemon.pipe(client);
    client.pipe(daemon);
    daemon.on("error", () => client.destroy());
    client.on("error", () => daemon.destroy());
    daemon.on("close", () => client.destroy());
    client.on("close", () => daemon.destroy());
  };
}

/** Counts the requests of class `count` open at once, from arrival to the end of their answer. */
function openCounter(count: OperationClass | undefined) {
  const counted = { open: 0, most: 0, total: 0 };
  const track = (req: IncomingMessage, res: ServerResponse) => {
    if (!count || classOf(req.method ?? "GET", req.url ?? "/") !== count) return;
    counted.open += 1;
    counted.total += 1;
    counted.most = Math.max(counted.most, counted.open);
    res.once("close", () => {
      counted.open -= 1;
    });
  };
  return { counted, track };
}

export async function startAnswerRelay(
  upstream: DockerEndpoint,
  rules: RelayRule[],
  /** Count requests of this limiter class, as the proxy classifies them (`counted`). */
  count?: OperationClass,
): Promise<AnswerRelay> {
  const { counted, track } = openCounter(count);
  const { changed, pick } = ruleMatcher(rules);
  const transport = createTransport(upstream);

  const http = createServer((req, res) => {
    track(req, res);
    const asked = requestOf(req);
    const picked = pick(asked);
    const rule = picked?.rule;
    if (picked && rule?.answer) {
      picked.change();
      req.resume();
      sendJson(res, rule.answer.status, rule.answer.body);
      return;
    }
    let path = req.url ?? "/";
    if (picked && rule?.request) {
      const prefix = path.match(VERSION_PREFIX)?.[0] ?? "";
      path = prefix + rule.request(asked.path);
      picked.change();
    }
    const forward = request({
      ...transport.requestOptions(),
      method: req.method,
      path,
      headers: req.headers,
    });
    forward.on("error", () => {
      if (!picked || !rule?.unreachable || res.headersSent) {
        res.destroy();
        return;
      }
      picked.change();
      sendJson(res, rule.unreachable.status, rule.unreachable.body);
    });
    res.on("close", () => forward.destroy());
    forward.on("response", (answer) => {
      const json = /json/.test(String(answer.headers["content-type"] ?? ""));
      if (picked && rule?.json && json) {
        picked.change();
        sendRewritten(answer, res, (body) => rule.json!(body, asked));
      } else if (picked && rule?.keepLine) {
        picked.change();
        sendFiltered(answer, res, rule.keepLine);
      } else {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // A wait or an event stream answers its head long before its body; clients wait for it.
        res.flushHeaders();
        answer.pipe(res);
      }
    });
    req.pipe(forward);
  });
  http.on(
    "upgrade",
    relayUpgrade(() => transport.connect() as Socket),
  );
  http.keepAliveTimeout = 1_000;

  const server = await serveTempSocket("berth-answers-", (client) => {
    http.emit("connection", client);
  });
  return {
    dockerHost: `unix://${server.path}`,
    changed,
    counted,
    close: async () => {
      http.closeAllConnections();
      await server.close();
      transport.close();
    },
  };
}
