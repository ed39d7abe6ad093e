// One Engine API request over a transport: query encoding as the daemon parses it, JSON bodies,
// the daemon's error answers as raw failures for classify.ts, upgraded (hijacked) connections,
// and readers for the API's JSON-lines streams.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import type { Duplex, Readable } from "node:stream";
import type { Transport } from "./transport.js";

export type Method = "GET" | "POST" | "PUT" | "DELETE" | "HEAD";

export interface RequestSpec {
  method: Method;
  path: string;
  query?: Record<string, unknown>;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (a tar stream); `headers` should say its type. */
  stream?: Readable;
  /** Sent as is, with its length; `headers` should say its type. */
  raw?: Buffer;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Statuses below 400 are answers; these statuses at 400 and up are answers too. */
  accept?: number[];
  /**
   * On a new connection of its own, not one from the pool: a daemon shutting down has closed its
   * listener but still serves the connections it had.
   */
  fresh?: boolean;
}

/** A daemon's error answer, in the shape classify.ts reads. */
export class EngineHttpError extends Error {
  readonly statusCode: number;
  readonly json: unknown;
  readonly reason: string;
  constructor(statusCode: number, body: string, method: string, path: string) {
    let json: unknown = body;
    try {
      json = JSON.parse(body);
    } catch {
      // Not JSON (a proxy's HTML page, an empty body): kept as text.
    }
    const message =
      json && typeof json === "object" && "message" in json && typeof json.message === "string"
        ? json.message
        : body.trim() || `HTTP ${statusCode}`;
    super(`${method} ${path}: (HTTP ${statusCode}) ${message}`);
    this.name = "EngineHttpError";
    this.statusCode = statusCode;
    this.json = json;
    this.reason = `HTTP ${statusCode}`;
  }
}

/** `filters` and other objects as JSON, arrays as repeated keys, nothing for `undefined`. */
export function encodeQuery(query: Record<string, unknown> | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item));
    else if (typeof value === "object") params.append(key, JSON.stringify(value));
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

export async function readBody(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

function prepare(spec: RequestSpec): { path: string; headers: Record<string, string>; payload?: Buffer } {
  const headers: Record<string, string> = { ...spec.headers };
  let payload: Buffer | undefined;
  if (spec.body !== undefined) {
    payload = Buffer.from(JSON.stringify(spec.body));
    headers["Content-Type"] = "application/json";
    headers["Content-Length"] = String(payload.length);
  } else if (spec.raw) {
    payload = spec.raw;
    headers["Content-Length"] = String(payload.length);
  } else if (!spec.stream && spec.method !== "GET" && spec.method !== "HEAD") {
    headers["Content-Length"] = "0";
  }
  return { path: spec.path + encodeQuery(spec.query), headers, payload };
}

/** Sends the request; answers the response once its status is known to be an answer. */
export function send(transport: Transport, spec: RequestSpec): Promise<IncomingMessage> {
  const { path, headers, payload } = prepare(spec);
  return new Promise<IncomingMessage>((resolve, reject) => {
    // As hijack does: the transport makes the connection (TLS included), node:http speaks HTTP on it.
    const { agent: _pool, protocol: _protocol, ...address } = transport.requestOptions();
    const req = httpRequest({
      ...(spec.fresh
        ? { ...address, agent: undefined, createConnection: () => transport.connect() }
        : transport.requestOptions()),
      method: spec.method,
      path,
      headers,
      signal: spec.signal,
    });
    req.on("error", reject);
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      if (status < 400 || spec.accept?.includes(status)) {
        resolve(res);
        return;
      }
      readBody(res).then(
        (body) => reject(new EngineHttpError(status, body.toString("utf8"), spec.method, spec.path)),
        reject,
      );
    });
    if (spec.stream) {
      spec.stream.on("error", (error) => req.destroy(error));
      spec.stream.pipe(req);
    } else req.end(payload);
  });
}

/** Sends the request and reads the whole answer. */
export async function fetchBody(
  transport: Transport,
  spec: RequestSpec,
): Promise<{ status: number; body: Buffer; headers: IncomingMessage["headers"] }> {
  const res = await send(transport, spec);
  return { status: res.statusCode ?? 0, body: await readBody(res), headers: res.headers };
}

/** Sends the request and parses its JSON answer. */
export async function fetchJson<T>(transport: Transport, spec: RequestSpec): Promise<T> {
  const { body } = await fetchBody(transport, spec);
  return (body.length === 0 ? undefined : JSON.parse(body.toString("utf8"))) as T;
}

/**
 * Sends an upgrading request (`Connection: Upgrade`, `Upgrade: tcp`) and answers the raw
 * connection the daemon switched to (HTTP 101), with any bytes read past the headers put back.
 * A daemon that answers 200 instead streams on the response, which is answered as the stream.
 */
export function hijack(transport: Transport, spec: RequestSpec): Promise<Duplex | IncomingMessage> {
  const { path, headers, payload } = prepare(spec);
  return new Promise((resolve, reject) => {
    const { agent: _pool, protocol: _protocol, ...address } = transport.requestOptions();
    const req = httpRequest({
      ...address,
      // An upgraded connection leaves the pool for good: it gets its own connection, made by
      // the transport (node:http uses no agent when given createConnection).
      agent: undefined,
      createConnection: () => transport.connect(),
      method: spec.method,
      path,
      headers: { ...headers, Connection: "Upgrade", Upgrade: "tcp" },
      signal: spec.signal,
    } as RequestOptions);
    req.on("error", reject);
    req.on("upgrade", (_res, socket, head) => {
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      if (status < 400) {
        resolve(res);
        return;
      }
      readBody(res).then(
        (body) => reject(new EngineHttpError(status, body.toString("utf8"), spec.method, spec.path)),
        reject,
      );
    });
    req.end(payload);
  });
}

/** Parses a JSON-lines stream (events, pull and build progress), one value per line. */
export async function* jsonLines<T>(stream: Readable): AsyncGenerator<T> {
  let pending = "";
  for await (const chunk of stream) {
    pending += typeof chunk === "string" ? chunk : (chunk as Buffer).toString("utf8");
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line) yield JSON.parse(line) as T;
      newline = pending.indexOf("\n");
    }
  }
  const rest = pending.trim();
  if (rest) yield JSON.parse(rest) as T;
}
