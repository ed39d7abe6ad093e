// A minimal Redis client over RESP: one connection per call, commands sent in order, one reply
// parsed per command. Enough for PING and SET/GET without npm dependencies.
import { converse } from "./wire.mjs";

function encode(args) {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(String(arg))}\r\n${arg}\r\n`);
  return parts.join("");
}

/** Parses one reply at `offset`; returns undefined when the buffer does not hold all of it yet. */
function parse(buffer, offset) {
  const lineEnd = buffer.indexOf("\r\n", offset);
  if (lineEnd < 0) return undefined;
  const kind = String.fromCharCode(buffer[offset]);
  const line = buffer.toString("utf8", offset + 1, lineEnd);
  const next = lineEnd + 2;
  if (kind === "+") return { value: line, next };
  if (kind === "-") return { value: new Error(`Redis error: ${line}`), next };
  if (kind === ":") return { value: Number(line), next };
  if (kind === "$") {
    const length = Number(line);
    if (length < 0) return { value: null, next };
    if (buffer.length < next + length + 2) return undefined;
    return { value: buffer.toString("utf8", next, next + length), next: next + length + 2 };
  }
  if (kind === "*") {
    const count = Number(line);
    if (count < 0) return { value: null, next };
    const items = [];
    let at = next;
    for (let i = 0; i < count; i++) {
      const item = parse(buffer, at);
      if (!item) return undefined;
      items.push(item.value);
      at = item.next;
    }
    return { value: items, next: at };
  }
  throw new Error(`Redis: unexpected reply type ${JSON.stringify(kind)}`);
}

/** Sends `commands` (each an array of arguments) on one connection; resolves to their replies. */
export function redisCommands({ host, port, commands, timeoutMs = 5000 }) {
  const replies = [];
  return converse({
    name: "Redis",
    host,
    port,
    timeoutMs,
    begin: (talk) => talk.send(commands.map(encode).join("")),
    receive(buffer, talk) {
      for (let reply = parse(buffer, 0); reply; reply = parse(buffer, 0)) {
        buffer = buffer.subarray(reply.next);
        if (reply.value instanceof Error) talk.fail(reply.value);
        else replies.push(reply.value);
        if (replies.length === commands.length) talk.done(replies);
      }
      return buffer;
    },
  });
}
