// Just enough HTTP/1.1 for the proxy's fast lane, on raw bytes: what a request head says, and
// where a response ends (Content-Length, chunked, no body, or the connection's end). Pure.

const HEAD_END = Buffer.from("\r\n\r\n");
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;

/** The trimmed value of the last header `marker` ("\r\nname:", lower case) in a lower-cased head. */
function headerValue(lowerHead: string, marker: string): string | undefined {
  const at = lowerHead.lastIndexOf(marker);
  if (at < 0) return undefined;
  const end = lowerHead.indexOf("\r\n", at + marker.length);
  return lowerHead.slice(at + marker.length, end < 0 ? undefined : end).trim();
}
/** A head larger than this is left to Node's HTTP server, which answers 431. */
export const MAX_HEAD_BYTES = 16 * 1024;

export type RequestHeadResult =
  | { kind: "incomplete" }
  /** Complete, but something the fast lane leaves to the full HTTP path. */
  | { kind: "other" }
  | { kind: "plain"; method: string; url: string; length: number; close: boolean };

/** The lengths of the header names `readRequestHead` looks at: other lines are not lower-cased. */
const WATCHED_NAME_LENGTHS = new Set(
  ["host", "expect", "upgrade", "connection", "content-length", "transfer-encoding"].map((n) => n.length),
);

/**
 * Reads the request head at the start of `buf`. "plain" means an HTTP/1.1 request with a Host,
 * no body (no Transfer-Encoding, no Content-Length above 0), no Upgrade, no Expect and no folded
 * header lines: a request whose bytes can be relayed as they are. It runs once per request of the
 * fast lane: one string for the head, searched in place, and only a watched header's name is
 * lower-cased (splitting the head into lines was the lane's largest piece of JavaScript).
 */
export function readRequestHead(buf: Buffer): RequestHeadResult {
  const end = buf.indexOf(HEAD_END);
  if (end < 0) return buf.length > MAX_HEAD_BYTES ? { kind: "other" } : { kind: "incomplete" };
  const head = buf.toString("latin1", 0, end);
  const found = head.indexOf("\r\n");
  const lineEnd = found < 0 ? head.length : found;
  // "METHOD TARGET HTTP/1.1": two spaces, then exactly the version.
  const space = head.indexOf(" ");
  const space2 = space < 0 ? -1 : head.indexOf(" ", space + 1);
  if (space2 < 0 || space2 + 9 !== lineEnd || !head.startsWith("HTTP/1.1", space2 + 1))
    return { kind: "other" };
  let host = false;
  let close = false;
  for (let start = lineEnd + 2; start < head.length; ) {
    const found = head.indexOf("\r\n", start);
    const stop = found < 0 ? head.length : found;
    const colon = head.indexOf(":", start);
    const first = head.charCodeAt(start);
    if (colon <= start || colon >= stop || first === 32 || first === 9) return { kind: "other" };
    if (WATCHED_NAME_LENGTHS.has(colon - start)) {
      switch (head.slice(start, colon).toLowerCase()) {
        case "host":
          host = true;
          break;
        case "content-length":
          if (head.slice(colon + 1, stop).trim() !== "0") return { kind: "other" };
          break;
        case "transfer-encoding":
        case "upgrade":
        case "expect":
          return { kind: "other" };
        case "connection":
          if (/(^|,)\s*close\s*(,|$)/i.test(head.slice(colon + 1, stop))) close = true;
          break;
      }
    }
    start = stop + 2;
  }
  if (!host) return { kind: "other" };
  return {
    kind: "plain",
    method: head.slice(0, space),
    url: head.slice(space + 1, space2),
    length: end + 4,
    close,
  };
}

/**
 * A chunk size line of 1-12 hex digits and CRLF at `at`, whole in `chunk`: its value and where it
 * ends; undefined for anything else (extensions, spaces, a line cut by the read), which the
 * reader takes as text.
 */
function hexLine(chunk: Buffer, at: number): { value: number; end: number } | undefined {
  let value = 0;
  let i = at;
  for (; i < chunk.length && i - at <= 12; i++) {
    const c = chunk[i]!;
    const digit =
      c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (digit < 0) break;
    value = value * 16 + digit;
  }
  const digits = i - at;
  if (digits === 0 || digits > 12 || chunk[i] !== 13 || chunk[i + 1] !== 10) return undefined;
  return { value, end: i + 2 };
}

type BodyState =
  | { kind: "head" }
  | { kind: "none" }
  | { kind: "length"; remaining: number }
  | { kind: "chunk-size" }
  | { kind: "chunk-data"; remaining: number }
  | { kind: "chunk-end"; remaining: number }
  | { kind: "trailer" }
  | { kind: "eof" };

/**
 * Follows one response as its bytes arrive: `feed` says how many bytes of a chunk belong to it,
 * and `done` turns true at its last byte. Interim (1xx) answers are passed over as part of it.
 */
export class ResponseReader {
  status = 0;
  /** The daemon said it closes the connection after this response. */
  close = false;
  /** Content-Length, when the response declared one. */
  declaredLength: number | undefined;
  /** Body bytes seen (chunk framing included). */
  bodyBytes = 0;
  done = false;
  private state: BodyState = { kind: "head" };
  private head: Buffer[] = [];
  private headSize = 0;
  /** Bytes of the current control line (a chunk size or trailer line). */
  private line = "";

  constructor(private readonly noBody: boolean) {}

  get headReceived(): boolean {
    return this.state.kind !== "head";
  }

  /** A response whose end is the connection's end is done when the daemon closes. */
  get endsAtClose(): boolean {
    return this.state.kind === "eof";
  }

  feed(chunk: Buffer): number {
    let at = 0;
    while (at < chunk.length && !this.done) at = this.step(chunk, at);
    return at;
  }

  private step(chunk: Buffer, at: number): number {
    const state = this.state;
    switch (state.kind) {
      case "head":
        return this.readHead(chunk, at);
      case "length": {
        const take = Math.min(state.remaining, chunk.length - at);
        state.remaining -= take;
        this.bodyBytes += take;
        if (state.remaining === 0) this.done = true;
        return at + take;
      }
      case "chunk-data":
      case "chunk-end": {
        const take = Math.min(state.remaining, chunk.length - at);
        state.remaining -= take;
        this.bodyBytes += take;
        if (state.remaining === 0) {
          this.state =
            state.kind === "chunk-data" ? { kind: "chunk-end", remaining: 2 } : { kind: "chunk-size" };
        }
        return at + take;
      }
      case "chunk-size":
      case "trailer":
        return this.readLine(chunk, at);
      case "eof":
        this.bodyBytes += chunk.length - at;
        return chunk.length;
      case "none":
        this.done = true;
        return at;
    }
  }

  private readLine(chunk: Buffer, at: number): number {
    // Most chunk size lines are hex digits and CRLF, whole in one read: read from the bytes.
    if (this.line === "" && this.state.kind === "chunk-size") {
      const size = hexLine(chunk, at);
      if (size !== undefined) {
        this.bodyBytes += size.end - at;
        this.chunkSizeRead(size.value);
        return size.end;
      }
    }
    const newline = chunk.indexOf(10, at);
    const end = newline < 0 ? chunk.length : newline + 1;
    this.line += chunk.toString("latin1", at, end);
    this.bodyBytes += end - at;
    if (newline < 0) return end;
    const line = this.line.trim();
    this.line = "";
    if (this.state.kind === "trailer") {
      if (line === "") this.done = true;
      return end;
    }
    const size = Number.parseInt(line.split(";")[0]!, 16);
    if (!Number.isFinite(size) || size < 0) throw new Error(`bad chunk size line ${JSON.stringify(line)}`);
    this.chunkSizeRead(size);
    return end;
  }

  /** After a chunk's size line, read from the bytes or as text: its data, or the trailer after the last. */
  private chunkSizeRead(size: number): void {
    this.state = size === 0 ? { kind: "trailer" } : { kind: "chunk-data", remaining: size };
  }

  private readHead(chunk: Buffer, at: number): number {
    // Most heads come whole in one read.
    if (this.headSize === 0) {
      const end = chunk.indexOf(HEAD_END, at);
      if (end >= 0) {
        this.startBody(chunk.toString("latin1", at, end));
        return end + 4;
      }
    }
    const before = this.headSize;
    this.head.push(at === 0 ? chunk : chunk.subarray(at));
    this.headSize += chunk.length - at;
    const all = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head, this.headSize);
    // The end marker may straddle two chunks: search from just before the new bytes.
    const end = all.indexOf(HEAD_END, Math.max(0, before - 3));
    if (end < 0) {
      if (this.headSize > 64 * 1024) throw new Error("response head too large");
      return chunk.length;
    }
    const consumed = end + 4 - before;
    this.head = [];
    this.headSize = 0;
    this.startBody(all.toString("latin1", 0, end));
    return at + consumed;
  }

  private startBody(head: string): void {
    const lineEnd = head.indexOf("\r\n");
    const statusLine = lineEnd < 0 ? head : head.slice(0, lineEnd);
    const status = Number(STATUS_LINE.exec(statusLine)?.[1]);
    if (!Number.isInteger(status)) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
    // Three headers matter; the last of each counts. One lower-cased copy and three searches cost
    // a fraction of splitting and lower-casing every line.
    const lower = head.toLowerCase();
    const lengthValue = headerValue(lower, "\r\ncontent-length:");
    const length = lengthValue === undefined ? undefined : Number(lengthValue);
    const chunked = /(^|,)\s*chunked\s*$/.test(headerValue(lower, "\r\ntransfer-encoding:") ?? "");
    const connection = headerValue(lower, "\r\nconnection:");
    const close =
      connection === undefined ? statusLine.startsWith("HTTP/1.0") : /(^|,)\s*close\s*(,|$)/.test(connection);
    if (status >= 100 && status < 200 && status !== 101) return; // interim: the real head follows
    this.status = status;
    this.close = close;
    if (this.noBody || status === 204 || status === 304 || status === 101) {
      this.state = { kind: "none" };
      this.done = true;
    } else if (chunked) {
      this.state = { kind: "chunk-size" };
    } else if (length !== undefined && Number.isSafeInteger(length) && length >= 0) {
      this.declaredLength = length;
      this.state = { kind: "length", remaining: length };
      if (length === 0) this.done = true;
    } else {
      this.state = { kind: "eof" };
      this.close = true;
    }
  }
}
