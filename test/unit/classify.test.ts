import { describe, expect, it } from "vitest";
import { classifyEngineError, conflictReasonOf } from "../../src/engine/classify.js";
import {
  AbortedError,
  BadRequestError,
  ConflictError,
  DaemonUnavailableError,
  EngineError,
  NotFoundError,
  TransientError,
} from "../../src/engine/errors.js";
import { EngineHttpError } from "../../src/engine/http.js";
import { SSH_DIAL_FAILED } from "../../src/engine/transport.js";

const ctx = { operation: "container.remove", endpoint: "unix:///var/run/docker.sock", resource: "web" };

describe("classifyEngineError", () => {
  it("maps a missing socket to DaemonUnavailable with the path and a hint", () => {
    const e = classifyEngineError({ code: "ENOENT", message: "connect ENOENT" }, ctx);
    expect(e).toBeInstanceOf(DaemonUnavailableError);
    expect(e.message).toContain("unix:///var/run/docker.sock");
    expect(e.hint).toContain("/var/run/docker.sock");
    expect(e.operation).toBe("container.remove");
  });

  it("keeps status, API message, operation and resource", () => {
    const e = classifyEngineError({ statusCode: 404, json: { message: "No such container: web" } }, ctx);
    expect(e).toBeInstanceOf(NotFoundError);
    expect(e).toMatchObject({
      status: 404,
      apiMessage: "No such container: web",
      operation: "container.remove",
      resource: "web",
    });
  });

  it("classifies 409s by their reason", () => {
    expect(conflictReasonOf('Conflict. The container name "/web" is already in use by container "abc"')).toBe(
      "name-in-use",
    );
    expect(conflictReasonOf("removal of container abc is already in progress")).toBe("removal-in-progress");
    expect(
      conflictReasonOf(
        "You cannot remove a running container abc. Stop the container before attempting removal",
      ),
    ).toBe("container-running");
    const e = classifyEngineError(
      { statusCode: 409, json: { message: "removal of container abc is already in progress" } },
      ctx,
    );
    expect(e).toBeInstanceOf(ConflictError);
    expect((e as ConflictError).reason).toBe("removal-in-progress");
  });

  it("treats busy daemons and dropped connections as transient", () => {
    expect(
      classifyEngineError(
        { statusCode: 500, json: { message: "unlinkat /var/lib/docker/x: device or resource busy" } },
        ctx,
      ),
    ).toBeInstanceOf(TransientError);
    expect(
      classifyEngineError(
        { statusCode: 409, json: { message: "a prune operation is already running" } },
        ctx,
      ),
    ).toBeInstanceOf(TransientError);
    expect(
      classifyEngineError(
        {
          statusCode: 409,
          json: { message: "Container abc is restarting, wait until the container is running" },
        },
        ctx,
      ),
    ).toBeInstanceOf(TransientError);
    expect(classifyEngineError({ statusCode: 503, json: "" }, ctx)).toBeInstanceOf(TransientError);
    expect(classifyEngineError({ code: "ECONNRESET" }, ctx)).toBeInstanceOf(TransientError);
  });

  it("maps 400 to BadRequest and other failures to EngineError", () => {
    expect(
      classifyEngineError({ statusCode: 400, json: { message: "invalid reference format" } }, ctx),
    ).toBeInstanceOf(BadRequestError);
    expect(classifyEngineError({ statusCode: 500, json: { message: "something else" } }, ctx)).toBeInstanceOf(
      EngineError,
    );
  });

  it("reads a JSON message delivered as a string", () => {
    const e = classifyEngineError({ statusCode: 404, json: '{"message":"network x not found"}' }, ctx);
    expect(e.apiMessage).toBe("network x not found");
  });
});

describe("classifyEngineError with the engine's own client errors", () => {
  it("reads status and message from the daemon's JSON answer", () => {
    const raw = new EngineHttpError(
      404,
      '{"message":"No such container: web"}',
      "GET",
      "/containers/web/json",
    );
    const e = classifyEngineError(raw, ctx);
    expect(e).toBeInstanceOf(NotFoundError);
    expect(e).toMatchObject({ status: 404, apiMessage: "No such container: web" });
  });

  it("keeps a non-JSON answer's text as the message", () => {
    const e = classifyEngineError(new EngineHttpError(502, "Bad Gateway\n", "GET", "/_ping"), ctx);
    expect(e).toBeInstanceOf(EngineError);
    expect(e).toMatchObject({ status: 502, apiMessage: "Bad Gateway" });
  });

  it("turns a failed ssh dial into DaemonUnavailable with ssh's own words and exit 3", () => {
    const raw = Object.assign(
      new Error("ssh to ssh://me@box exited with 255: Permission denied (publickey)."),
      {
        code: SSH_DIAL_FAILED,
      },
    );
    const e = classifyEngineError(raw, { ...ctx, endpoint: "ssh://me@box" });
    expect(e).toBeInstanceOf(DaemonUnavailableError);
    expect(e.exitCode).toBe(3);
    expect(e.message).toContain("Permission denied (publickey)");
    expect(e.message).toContain("ssh://me@box");
    expect(e.hint).toContain("docker system dial-stdio");
  });

  it("turns a refused TLS handshake into DaemonUnavailable naming the endpoint", () => {
    for (const code of [
      "EPROTO",
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      "CERT_HAS_EXPIRED",
      "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
    ]) {
      const e = classifyEngineError(
        { code, message: "handshake" },
        { ...ctx, endpoint: "tcp://127.0.0.1:2376" },
      );
      expect(e).toBeInstanceOf(DaemonUnavailableError);
      expect(e.message).toContain("tcp://127.0.0.1:2376");
      expect(e.message).toContain(code);
      expect(e.hint).toContain("DOCKER_CERT_PATH");
    }
  });

  it("turns an aborted request into AbortedError", () => {
    const raw = Object.assign(new Error("The operation was aborted"), {
      name: "AbortError",
      code: "ABORT_ERR",
    });
    expect(classifyEngineError(raw, ctx)).toBeInstanceOf(AbortedError);
  });
});
