import { describe, expect, it } from "vitest";
import { ResponseReader, readRequestHead } from "../../src/proxy/raw-http.js";

const bytes = (text: string) => Buffer.from(text, "latin1");

describe("readRequestHead", () => {
  it("reads a plain body-less request", () => {
    const head = "GET /v1.41/containers/json HTTP/1.1\r\nHost: docker\r\nUser-Agent: x\r\n\r\n";
    expect(readRequestHead(bytes(`${head}GET /_ping`))).toEqual({
      kind: "plain",
      method: "GET",
      url: "/v1.41/containers/json",
      length: head.length,
      close: false,
    });
  });

  it("notes Connection: close", () => {
    const r = readRequestHead(
      bytes("GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: keep-alive, close\r\n\r\n"),
    );
    expect(r).toMatchObject({ kind: "plain", close: true });
  });

  it("reads header names in any case and passes over others of the same length", () => {
    // Accept is as long as Expect, X-Host-Name as Connection: only the watched names count.
    const head =
      "HEAD /_ping HTTP/1.1\r\nhOsT: d\r\nAccept: */*\r\nX-Host-Name: y\r\nCONTENT-LENGTH: 0\r\n\r\n";
    expect(readRequestHead(bytes(head))).toEqual({
      kind: "plain",
      method: "HEAD",
      url: "/_ping",
      length: head.length,
      close: false,
    });
    for (const line of ["EXPECT: 100-continue", "Transfer-encoding: chunked", "content-length: 5"]) {
      const other = `GET /_ping HTTP/1.1\r\nHost: d\r\n${line}\r\n\r\n`;
      expect(readRequestHead(bytes(other)), line).toEqual({ kind: "other" });
    }
    expect(
      readRequestHead(bytes("GET /_ping HTTP/1.1\r\nHOST: d\r\nCONNECTION: Close\r\n\r\n")),
    ).toMatchObject({
      kind: "plain",
      close: true,
    });
  });

  it("leaves a request line that is not METHOD TARGET HTTP/1.1 to the full path", () => {
    for (const line of ["GET /a b HTTP/1.1", "GET /x HTTP/1.11", "GET /x HTTP/1.1 ", "GET /x"]) {
      expect(readRequestHead(bytes(`${line}\r\nHost: d\r\n\r\n`)), line).toEqual({ kind: "other" });
    }
  });

  it("waits for the rest of a head", () => {
    expect(readRequestHead(bytes("GET /_ping HTTP/1.1\r\nHost: d\r\n"))).toEqual({ kind: "incomplete" });
  });

  it("leaves bodies, upgrades, HTTP/1.0, missing hosts and folded lines to the full path", () => {
    for (const head of [
      "POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 2\r\n\r\n{}",
      "POST /build HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST /containers/x/attach HTTP/1.1\r\nHost: d\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n",
      "GET /_ping HTTP/1.0\r\n\r\n",
      "GET /_ping HTTP/1.1\r\nUser-Agent: x\r\n\r\n",
      "GET /_ping HTTP/1.1\r\nHost: d\r\nX-A: 1\r\n  folded\r\n\r\n",
      "GET /_ping HTTP/1.1\r\nHost: d\r\nExpect: 100-continue\r\n\r\n",
    ]) {
      expect(readRequestHead(bytes(head)), head).toEqual({ kind: "other" });
    }
  });

  it("gives up on a head too large to be a plain request", () => {
    expect(readRequestHead(Buffer.alloc(20_000, 65))).toEqual({ kind: "other" });
  });
});

/** Feeds `text` in pieces of `size` bytes; answers the bytes the reader took and whether it ended. */
function feed(reader: ResponseReader, text: string, size: number): number {
  const all = bytes(text);
  let used = 0;
  for (let at = 0; at < all.length && !reader.done; at += size) {
    used += reader.feed(all.subarray(at, Math.min(all.length, at + size)));
  }
  return used;
}

describe("ResponseReader", () => {
  const chunked =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "5\r\n[1,2]\r\na;ext=1\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";

  it("ends a Content-Length body at its last byte, in any split", () => {
    const text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK";
    for (const size of [1, 3, 7, text.length]) {
      const reader = new ResponseReader(false);
      expect(feed(reader, `${text}extra`, size)).toBe(text.length);
      expect(reader).toMatchObject({
        done: true,
        status: 200,
        declaredLength: 2,
        bodyBytes: 2,
        close: false,
      });
    }
  });

  it("follows chunked framing with extensions and trailers, in any split", () => {
    for (const size of [1, 2, 5, chunked.length]) {
      const reader = new ResponseReader(false);
      expect(feed(reader, chunked, size)).toBe(chunked.length);
      expect(reader.done).toBe(true);
    }
    const partial = new ResponseReader(false);
    partial.feed(bytes(chunked.slice(0, -2)));
    expect(partial.done).toBe(false);
  });

  it("reads chunk sizes in either case and with leading zeros, whole in a read or cut by it", () => {
    const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const text = `${head}00A\r\n${"a".repeat(10)}\r\n1f\r\n${"b".repeat(31)}\r\n0\r\n\r\n`;
    for (const size of [1, 4, 50, text.length]) {
      const reader = new ResponseReader(false);
      expect(feed(reader, `${text}next`, size), `pieces of ${size}`).toBe(text.length);
      expect(reader).toMatchObject({ done: true, status: 200, bodyBytes: text.length - head.length });
    }
  });

  it("has no body for HEAD, 204 and 304, and passes over interim answers", () => {
    const head = new ResponseReader(true);
    head.feed(bytes("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"));
    expect(head.done).toBe(true);
    const empty = new ResponseReader(false);
    empty.feed(bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"));
    expect(empty).toMatchObject({ done: true, status: 204 });
  });

  it("reads to the connection's end without a length, and notes Connection: close", () => {
    const reader = new ResponseReader(false);
    reader.feed(bytes("HTTP/1.1 200 OK\r\n\r\nsome"));
    expect(reader).toMatchObject({ done: false, endsAtClose: true, close: true, bodyBytes: 4 });
    const closing = new ResponseReader(false);
    closing.feed(bytes("HTTP/1.1 500 Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
    expect(closing).toMatchObject({ done: true, status: 500, close: true });
  });

  it("reads header names in any case, the last of a repeated header, and HTTP/1.0's default close", () => {
    const reader = new ResponseReader(false);
    reader.feed(
      bytes(
        "HTTP/1.1 200 OK\r\nX-Content-Length: 7\r\ncontent-LENGTH: 9\r\nCONTENT-LENGTH:  3 \r\nConnection: Keep-Alive, Close\r\n\r\nabc",
      ),
    );
    expect(reader).toMatchObject({ done: true, declaredLength: 3, bodyBytes: 3, close: true });
    const old = new ResponseReader(false);
    old.feed(bytes("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
    expect(old).toMatchObject({ done: true, close: true });
    const kept = new ResponseReader(false);
    kept.feed(bytes("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"));
    expect(kept).toMatchObject({ done: true, close: false });
    const chunked = new ResponseReader(false);
    chunked.feed(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n0\r\n\r\n"));
    expect(chunked.done).toBe(true);
  });

  it("refuses a response that is not HTTP", () => {
    expect(() => new ResponseReader(false).feed(bytes("SSH-2.0-OpenSSH\r\n\r\n"))).toThrow(/status line/);
    expect(() =>
      feed(new ResponseReader(false), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 4),
    ).toThrow(/chunk size/);
  });
});
