import { describe, expect, it } from "vitest";
import { classifyEngineError, conflictReasonOf } from "../../src/engine/classify.js";
import {
  BadRequestError,
  ConflictError,
  DaemonUnavailableError,
  EngineError,
  NotFoundError,
  TransientError,
} from "../../src/engine/errors.js";

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
