import { describe, expect, it } from "vitest";
import { closeAfterResponse } from "../../src/validate/fault-proxy.js";

describe("the fault relay's request rewrite", () => {
  it("asks the daemon to close the connection after its answer, replacing a keep-alive", () => {
    const head = Buffer.from(
      "GET /v1.41/containers/json HTTP/1.1\r\nHost: docker\r\nConnection: keep-alive\r\n\r\n",
      "latin1",
    );
    expect(closeAfterResponse(head).toString("latin1")).toBe(
      "GET /v1.41/containers/json HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n",
    );
  });

  it("keeps the body that came with the head", () => {
    const head = Buffer.from("POST /containers/create HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", "latin1");
    expect(closeAfterResponse(head).toString("latin1")).toBe(
      "POST /containers/create HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
  });

  it("leaves a head that did not arrive whole alone", () => {
    const partial = Buffer.from("GET /_ping HTTP/1.1\r\nHost: dock", "latin1");
    expect(closeAfterResponse(partial)).toBe(partial);
  });
});
