// The engine's core: the transport, the interceptors and observers every call passes, error
// classification, and the request helpers the resource methods (system-api.ts and the files
// after it in the chain up to engine.ts) are written with.

import type { IncomingMessage } from "node:http";
import { classifyEngineError, endpointContext } from "./classify.js";
import { type DockerEndpoint, type DockerEnv, resolveDockerEndpoint } from "./docker-host.js";
import { fetchBody, fetchJson, type RequestSpec, send } from "./http.js";
import { OPERATIONS, type OperationClass, type OperationName } from "./operations.js";
import { createTransport, type Transport } from "./transport.js";
export interface EngineCall {
  operation: OperationName;
  class: OperationClass;
  idempotent: boolean;
  /** Container, network, volume or image the call is about, for errors and logs. */
  resource?: string;
  signal?: AbortSignal;
}

/** Wraps every engine call; `next` performs it (and may be called again to retry). */
export type EngineInterceptor = <T>(call: EngineCall, next: () => Promise<T>) => Promise<T>;

/** One dispatch to the daemon, as the daemon saw it: no time queued in berth is included. */
export interface CallRecord {
  operation: OperationName;
  class: OperationClass;
  resource?: string;
  startedAt: number;
  durationMs: number;
  outcome: "ok" | "error";
  errorCode?: string;
  status?: number;
}

export type CallObserver = (record: CallRecord) => void;

export interface EngineOptions {
  /** Environment to read DOCKER_HOST and TLS settings from (default: process.env). */
  env?: DockerEnv;
  /** An explicit endpoint, overriding the environment. */
  dockerHost?: string;
}

/** Encodes an id or name for a request path. */
export const path = encodeURIComponent;
/**
 * The endpoint for an engine's options. An explicit `dockerHost` that names the address the
 * environment resolves to (a child engine made from `engine.endpoint.url`) keeps that
 * endpoint's TLS material and source, so a context's certificates are not lost on the way.
 */
function endpointFor(options: EngineOptions): DockerEndpoint {
  const env = options.env ?? process.env;
  if (!options.dockerHost) return resolveDockerEndpoint(env);
  let fromEnv: DockerEndpoint | undefined;
  try {
    fromEnv = resolveDockerEndpoint(env);
  } catch {
    fromEnv = undefined;
  }
  if (fromEnv?.url === options.dockerHost) return fromEnv;
  return resolveDockerEndpoint({ ...env, DOCKER_HOST: options.dockerHost });
}

/** Docker's stop timeout when a container names none. */
export const DEFAULT_STOP_TIMEOUT_SECONDS = 10;

export class EngineCore {
  readonly endpoint: DockerEndpoint;
  private transport: Transport | undefined;
  private readonly interceptors: EngineInterceptor[] = [];
  private readonly observers = new Set<CallObserver>();

  constructor(options: EngineOptions = {}) {
    this.endpoint = endpointFor(options);
  }

  /** Prepares the transport now (it is otherwise made by the first call); no request is sent. */
  async connect(): Promise<void> {
    this.link();
  }

  /** Closes idle pooled connections (for an ssh endpoint, their ssh processes). */
  close(): void {
    this.transport?.close();
    this.transport = undefined;
  }

  protected link(): Transport {
    this.transport ??= createTransport(this.endpoint);
    return this.transport;
  }

  /** Adds an interceptor; the first one added is the outermost. */
  use(interceptor: EngineInterceptor): this {
    this.interceptors.push(interceptor);
    return this;
  }

  /** Observes every dispatch to the daemon. Returns a function that stops observing. */
  observe(observer: CallObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /**
   * Runs one named engine operation through interceptors, observers and error classification.
   * `perform` sends the request(s) with the engine's own methods; there is no raw client.
   */
  async call<T>(
    operation: OperationName,
    perform: () => Promise<T>,
    context: { resource?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    const spec = OPERATIONS[operation];
    const call: EngineCall = { operation, class: spec.class, idempotent: spec.idempotent, ...context };
    const dispatch = async (): Promise<T> => {
      const startedAt = Date.now();
      const t0 = performance.now();
      const record = (outcome: Pick<CallRecord, "outcome" | "errorCode" | "status">) =>
        this.emit({
          operation,
          class: spec.class,
          resource: context.resource,
          startedAt,
          durationMs: performance.now() - t0,
          ...outcome,
        });
      try {
        const value = await perform();
        record({ outcome: "ok" });
        return value;
      } catch (raw) {
        const error = classifyEngineError(raw, {
          operation,
          ...endpointContext(this.endpoint),
          resource: context.resource,
        });
        record({ outcome: "error", errorCode: error.code, status: error.status });
        throw error;
      }
    };
    let next: () => Promise<T> = dispatch;
    for (let i = this.interceptors.length - 1; i >= 0; i--) {
      const interceptor = this.interceptors[i]!;
      const inner = next;
      next = () => interceptor(call, inner);
    }
    return next();
  }

  private emit(record: CallRecord): void {
    for (const observer of this.observers) observer(record);
  }

  /** One named operation that is one request with a JSON answer. */
  protected callJson<T>(
    operation: OperationName,
    spec: RequestSpec,
    context: { resource?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    return this.call(operation, () => this.json<T>(spec), context);
  }

  /** One named operation that is one request whose answer is only its status. */
  protected callStatus(
    operation: OperationName,
    spec: RequestSpec,
    context: { resource?: string; signal?: AbortSignal } = {},
  ): Promise<void> {
    return this.call(operation, async () => void (await this.status(spec)), context);
  }

  /** One named `GET` of a resource's JSON (the `inspect*` calls). */
  protected callGet<T>(operation: OperationName, url: string, resource: string): Promise<T> {
    return this.callJson(operation, { method: "GET", path: url }, { resource });
  }

  /** One named `DELETE` of a resource (the `remove*` calls that take no options). */
  protected callDelete(operation: OperationName, url: string, resource: string): Promise<void> {
    return this.callStatus(operation, { method: "DELETE", path: url }, { resource });
  }

  /** One named operation that is one request whose streamed answer `read` follows to its end. */
  protected callStream<T>(
    operation: OperationName,
    spec: RequestSpec,
    resource: string,
    read: (stream: IncomingMessage) => Promise<T>,
  ): Promise<T> {
    return this.call(operation, async () => read(await this.stream(spec)), { resource, signal: spec.signal });
  }

  protected json<T>(spec: RequestSpec): Promise<T> {
    return fetchJson<T>(this.link(), spec);
  }

  /** Sends the request, reads and drops the answer, and answers its status. */
  protected async status(spec: RequestSpec): Promise<number> {
    return (await fetchBody(this.link(), spec)).status;
  }

  protected stream(spec: RequestSpec): Promise<IncomingMessage> {
    return send(this.link(), spec);
  }
}
