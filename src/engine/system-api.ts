// The daemon itself: ping, version, info and its event stream.
import { classifyEngineError, endpointContext } from "./classify.js";
import { EngineCore } from "./core.js";
import { fetchBody, jsonLines } from "./http.js";
import type { EngineEvent, Filters, VersionInfo } from "./types.js";

export class SystemApi extends EngineCore {
  ping(signal?: AbortSignal): Promise<string> {
    return this.call(
      "system.ping",
      async () => (await fetchBody(this.link(), { method: "GET", path: "/_ping", signal })).body.toString(),
      { signal },
    );
  }

  /**
   * Pings over a new connection: fails once the daemon stops accepting connections (it is
   * shutting down or gone), even while it still answers on the connections it has.
   */
  pingFresh(signal?: AbortSignal): Promise<void> {
    return this.call(
      "system.ping",
      async () => {
        await fetchBody(this.link(), { method: "GET", path: "/_ping", signal, fresh: true });
      },
      { signal },
    );
  }

  version(): Promise<VersionInfo> {
    return this.call("system.version", () => this.json<VersionInfo>({ method: "GET", path: "/version" }));
  }

  info(): Promise<Record<string, unknown>> {
    return this.call("system.info", () =>
      this.json<Record<string, unknown>>({ method: "GET", path: "/info" }),
    );
  }

  /** Follows the daemon's event stream until `signal` aborts. */
  async *events(
    options: {
      filters?: Filters;
      since?: number;
      until?: number;
      signal?: AbortSignal;
      /** The open stream does not keep the process alive (default false). */
      unref?: boolean;
    } = {},
  ): AsyncGenerator<EngineEvent> {
    const { signal, unref, ...query } = options;
    const stream = await this.call(
      "system.events",
      () => this.stream({ method: "GET", path: "/events", query, signal }),
      { signal },
    );
    if (unref) stream.socket?.unref();
    const onAbort = () => stream.destroy();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      yield* jsonLines<EngineEvent>(stream);
    } catch (error) {
      if (!signal?.aborted)
        throw classifyEngineError(error, { operation: "system.events", ...endpointContext(this.endpoint) });
    } finally {
      signal?.removeEventListener("abort", onAbort);
      stream.destroy();
    }
  }
}
