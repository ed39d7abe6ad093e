// Names a raw Engine API request: which operation it is, its limiter class (read, lifecycle,
// stream) and its endpoint group for the policy. Pure: the proxy's routing rules live here only.
import type { OperationClass } from "../engine/operations.js";

/** Endpoint groups a policy can deny, in the manner of the socket proxies' ALLOW/DENY switches. */
export const ENDPOINT_GROUPS = [
  "ping",
  "version",
  "info",
  "events",
  "system",
  "containers",
  "exec",
  "images",
  "build",
  "networks",
  "volumes",
  "swarm",
  "nodes",
  "services",
  "tasks",
  "secrets",
  "configs",
  "plugins",
  "session",
  "distribution",
  "auth",
  "commit",
] as const;

export type EndpointGroup = (typeof ENDPOINT_GROUPS)[number];

export interface ClassifiedRequest {
  /** The API version in the path (`1.41` for `/v1.41/...`), if any. */
  apiVersion: string | undefined;
  /** The path without the version prefix and query, e.g. `/containers/abc/json`. */
  path: string;
  /** An operation name: the catalogue's name where it has one (`container.start`), else a similar one. */
  operation: string;
  class: OperationClass;
  group: EndpointGroup;
  /** The container, exec, image, network or volume the request is about. */
  resource?: string;
  /** Requests whose body is a small JSON document the proxy may read (policy, size cap). */
  jsonBody: boolean;
}

export type ClassifyResult =
  | { ok: true; request: ClassifiedRequest }
  | { ok: false; reason: "outside-api" | "bad-path"; message: string };

const VERSIONED = /^\/v(\d+\.\d+)(\/.*)?$/;

/** Docker's own reading of boolean query values (`httputils.BoolValue`). */
export function queryBool(value: string | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  const v = value.trim().toLowerCase();
  return !(v === "" || v === "0" || v === "no" || v === "false" || v === "none");
}

function decodeSegments(path: string): string[] | undefined {
  const parts = path.split("/").slice(1);
  const decoded: string[] = [];
  for (const part of parts) {
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return undefined;
    }
    // An encoded slash must not smuggle in a `..` that the daemon's router would resolve.
    if (segment.split("/").some((p) => p === "." || p === "..") || segment.includes("\0")) return undefined;
    decoded.push(segment);
  }
  // A trailing slash leaves an empty last segment; the daemon's router treats it as absent.
  if (decoded.length > 1 && decoded.at(-1) === "") decoded.pop();
  return decoded;
}

interface Route {
  operation: string;
  class: OperationClass;
  group: EndpointGroup;
  resource?: string;
  jsonBody?: boolean;
}

const readOrChange = (method: string): OperationClass =>
  method === "GET" || method === "HEAD" ? "read" : "lifecycle";

function containerRoute(method: string, rest: string[], query: URLSearchParams): Route | undefined {
  const [first, action, sub] = rest;
  if (first === undefined || first === "") return undefined;
  if (rest.length === 1) {
    if (first === "json" && method === "GET")
      return { operation: "container.list", class: "read", group: "containers" };
    if (first === "create" && method === "POST")
      return { operation: "container.create", class: "lifecycle", group: "containers", jsonBody: true };
    if (first === "prune" && method === "POST")
      return { operation: "container.prune", class: "lifecycle", group: "containers" };
    if (method === "DELETE")
      return { operation: "container.remove", class: "lifecycle", group: "containers", resource: first };
    return undefined;
  }
  const resource = first;
  const at = (operation: string, cls: OperationClass, extra: Partial<Route> = {}): Route => ({
    operation,
    class: cls,
    group: "containers",
    resource,
    ...extra,
  });
  switch (action) {
    case "json":
      return at("container.inspect", "read");
    case "top":
    case "changes":
      return at(`container.${action}`, "read");
    case "logs":
      return queryBool(query.get("follow"))
        ? at("container.logs-follow", "stream")
        : at("container.logs", "read");
    case "stats": {
      // The daemon streams unless stream is explicitly false; one-shot samples are reads.
      const streaming = !query.has("stream") || queryBool(query.get("stream"));
      return streaming ? at("container.stats-stream", "stream") : at("container.stats", "read");
    }
    case "export":
      return at("container.export", "stream");
    case "attach":
      return at("container.attach", "stream");
    case "wait":
      return at("container.wait", "stream");
    case "resize":
      // Terminal resizes arrive during interactive sessions; they are cheap and must never queue.
      return at("container.resize", "read");
    case "archive":
      return method === "HEAD" ? at("container.archive-stat", "read") : at("container.archive", "stream");
    case "exec":
      return { ...at("container.exec-create", "lifecycle"), group: "exec", jsonBody: true };
    case "update":
      return at("container.update", "lifecycle", { jsonBody: true });
    case "start":
    case "stop":
    case "restart":
    case "kill":
    case "rename":
    case "pause":
    case "unpause":
      return at(`container.${action}`, "lifecycle");
    default:
      return sub === undefined && action !== undefined
        ? at(`container.${action}`, readOrChange(method))
        : undefined;
  }
}

function execRoute(rest: string[]): Route | undefined {
  const [id, action] = rest;
  if (!id) return undefined;
  if (action === "start")
    return { operation: "container.exec-start", class: "stream", group: "exec", resource: id };
  if (action === "resize")
    return { operation: "container.exec-resize", class: "read", group: "exec", resource: id };
  if (action === "json")
    return { operation: "container.exec-inspect", class: "read", group: "exec", resource: id };
  return undefined;
}

/** Image endpoints that name no image, by `METHOD path`. */
const IMAGE_COLLECTION: Record<string, [string, OperationClass]> = {
  "GET json": ["image.list", "read"],
  "POST create": ["image.pull", "stream"],
  "POST load": ["image.load", "stream"],
  "GET get": ["image.export", "stream"],
  "GET search": ["image.search", "read"],
  "POST prune": ["image.prune", "lifecycle"],
};

/** Actions on a named image, by `METHOD action`. */
const IMAGE_ACTIONS: Record<string, [string, OperationClass]> = {
  "GET json": ["image.inspect", "read"],
  "GET history": ["image.history", "read"],
  "GET get": ["image.export", "stream"],
  "POST push": ["image.push", "stream"],
  "POST tag": ["image.tag", "lifecycle"],
};

function imageRoute(method: string, rest: string[]): Route | undefined {
  const collection = IMAGE_COLLECTION[`${method} ${rest.join("/")}`];
  if (collection) return { operation: collection[0], class: collection[1], group: "images" };
  if (rest.length === 0 || rest[0] === "") return undefined;
  // Image names contain slashes (`berth-fixture/busybox`), so the action is the last segment.
  const named = ([operation, cls]: [string, OperationClass], drop = 1): Route => ({
    operation,
    class: cls,
    group: "images",
    resource: rest.slice(0, rest.length - drop).join("/"),
  });
  if (method === "DELETE") return named(["image.remove", "lifecycle"], 0);
  const action = IMAGE_ACTIONS[`${method} ${rest.at(-1)}`];
  return action && named(action);
}

function objectRoute(
  method: string,
  rest: string[],
  kind: "network" | "volume",
  group: "networks" | "volumes",
): Route | undefined {
  const [first, action] = rest;
  if (first === undefined || first === "") {
    return method === "GET" ? { operation: `${kind}.list`, class: "read", group } : undefined;
  }
  if (rest.length === 1) {
    if (first === "create" && method === "POST")
      return { operation: `${kind}.create`, class: "lifecycle", group, jsonBody: true };
    if (first === "prune" && method === "POST")
      return { operation: `${kind}.prune`, class: "lifecycle", group };
    if (method === "GET" || method === "HEAD")
      return { operation: `${kind}.inspect`, class: "read", group, resource: first };
    if (method === "DELETE")
      return { operation: `${kind}.remove`, class: "lifecycle", group, resource: first };
    if (method === "PUT") return { operation: `${kind}.update`, class: "lifecycle", group, resource: first };
    return undefined;
  }
  if (kind === "network" && (action === "connect" || action === "disconnect") && method === "POST") {
    return { operation: `network.${action}`, class: "lifecycle", group, resource: first, jsonBody: true };
  }
  return undefined;
}

function genericRoute(method: string, group: EndpointGroup, rest: string[]): Route {
  const follow = rest.at(-1) === "logs";
  const streaming = group === "plugins" && ["pull", "upgrade", "push", "create"].includes(rest.at(-1) ?? "");
  return {
    operation: `${group}.${method.toLowerCase()}`,
    class: follow || streaming ? "stream" : readOrChange(method),
    group,
    resource: rest[0] || undefined,
  };
}

function route(method: string, segments: string[], query: URLSearchParams): Route | undefined {
  const [top, ...rest] = segments;
  switch (top) {
    case "_ping":
      return method === "GET" || method === "HEAD"
        ? { operation: "system.ping", class: "read", group: "ping" }
        : undefined;
    case "version":
      return { operation: "system.version", class: "read", group: "version" };
    case "info":
      return { operation: "system.info", class: "read", group: "info" };
    case "events":
      return { operation: "system.events", class: "stream", group: "events" };
    case "system":
      return rest[0] === "df"
        ? { operation: "system.df", class: "read", group: "system" }
        : { operation: "system.other", class: readOrChange(method), group: "system" };
    case "containers":
      return containerRoute(method, rest, query);
    case "exec":
      return execRoute(rest);
    case "images":
      return imageRoute(method, rest);
    case "build":
      if (rest[0] === "prune") return { operation: "build.prune", class: "lifecycle", group: "build" };
      if (rest[0] === "cancel") return { operation: "build.cancel", class: "read", group: "build" };
      return rest.length === 0 ? { operation: "image.build", class: "stream", group: "build" } : undefined;
    case "networks":
      return objectRoute(method, rest, "network", "networks");
    case "volumes":
      return objectRoute(method, rest, "volume", "volumes");
    case "commit":
      return { operation: "container.commit", class: "lifecycle", group: "commit" };
    case "auth":
      return { operation: "system.auth", class: "read", group: "auth" };
    case "session":
    case "grpc":
      // BuildKit's sessions: h2c upgrades that live as long as the build.
      return { operation: `build.${top}`, class: "stream", group: "session" };
    case "distribution":
      return { operation: "distribution.inspect", class: "read", group: "distribution" };
    case "swarm":
    case "nodes":
    case "services":
    case "tasks":
    case "secrets":
    case "configs":
    case "plugins":
      return genericRoute(method, top, rest);
    default:
      return undefined;
  }
}

/**
 * Classifies `method` and the request target `url` (path and query, as on the request line).
 * Paths the Engine API does not have are refused here, before anything reaches the daemon.
 */
export function classifyRequest(method: string, url: string): ClassifyResult {
  const queryAt = url.indexOf("?");
  const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? "" : url.slice(queryAt + 1));
  if (!rawPath.startsWith("/")) {
    return { ok: false, reason: "bad-path", message: `request target ${JSON.stringify(url)} is not a path` };
  }
  const versioned = VERSIONED.exec(rawPath);
  const apiVersion = versioned?.[1];
  const path = versioned ? (versioned[2] ?? "/") : rawPath;
  const segments = decodeSegments(path);
  if (!segments) {
    return {
      ok: false,
      reason: "bad-path",
      message: `path ${JSON.stringify(rawPath)} is not a valid API path`,
    };
  }
  const found = route(method.toUpperCase(), segments, query);
  if (!found) {
    return {
      ok: false,
      reason: "outside-api",
      message: `${method} ${path} is not a Docker Engine API endpoint`,
    };
  }
  return {
    ok: true,
    request: {
      apiVersion,
      path,
      operation: found.operation,
      class: found.class,
      group: found.group,
      resource: found.resource,
      jsonBody: (found.jsonBody ?? false) && method.toUpperCase() === "POST",
    },
  };
}

export interface ForceRemoval {
  container: string;
  /** The request's `v`: remove anonymous volumes too. */
  volumes: boolean;
}

/** A `DELETE /containers/{id}?force=...` the proxy can turn into a graceful removal. */
export function forceRemovalOf(
  method: string,
  request: ClassifiedRequest,
  url: string,
): ForceRemoval | undefined {
  if (method.toUpperCase() !== "DELETE" || request.operation !== "container.remove" || !request.resource) {
    return undefined;
  }
  const queryAt = url.indexOf("?");
  const query = new URLSearchParams(queryAt < 0 ? "" : url.slice(queryAt + 1));
  // `link=1` removes a legacy link, not the container: leave it to the daemon.
  if (!queryBool(query.get("force")) || queryBool(query.get("link"))) return undefined;
  return { container: request.resource, volumes: queryBool(query.get("v")) };
}
