// A minimal PostgreSQL client over the wire protocol (v3): startup, trust / cleartext / md5
// authentication, and simple queries with text results. Enough for health checks and a SQL
// round trip without npm dependencies; not a driver.
import { createHash } from "node:crypto";
import { converse } from "./wire.mjs";

const md5 = (text) => createHash("md5").update(text).digest("hex");

function message(type, body) {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const cstring = (text) => Buffer.from(`${text}\0`, "utf8");

function startupMessage(user, database) {
  const body = Buffer.concat([
    Buffer.from([0, 3, 0, 0]),
    cstring("user"),
    cstring(user),
    cstring("database"),
    cstring(database),
    Buffer.from([0]),
  ]);
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length + 4);
  return Buffer.concat([length, body]);
}

function errorFields(body) {
  const fields = {};
  let offset = 0;
  while (offset < body.length && body[offset] !== 0) {
    const code = String.fromCharCode(body[offset]);
    const end = body.indexOf(0, offset + 1);
    fields[code] = body.toString("utf8", offset + 1, end);
    offset = end + 1;
  }
  return fields;
}

function dataRow(body) {
  const count = body.readInt16BE(0);
  const row = [];
  let offset = 2;
  for (let i = 0; i < count; i++) {
    const length = body.readInt32BE(offset);
    offset += 4;
    if (length < 0) row.push(null);
    else {
      row.push(body.toString("utf8", offset, offset + length));
      offset += length;
    }
  }
  return row;
}

/**
 * Connects, authenticates, runs `sql` (one or more statements, simple query protocol) and
 * disconnects. Resolves to the data rows of every result, in order, as text (null for NULL).
 */
export function pgQuery({ host, port, user, password = "", database = user, sql, timeoutMs = 5000 }) {
  const rows = [];
  let queried = false;
  const handle = (type, body, talk) => {
    if (type === "R") {
      const code = body.readInt32BE(0);
      if (code === 0) return;
      if (code === 3) return talk.send(message("p", cstring(password)));
      if (code === 5) {
        const salt = body.subarray(4, 8);
        const inner = md5(password + user);
        const outer = createHash("md5").update(inner).update(salt).digest("hex");
        return talk.send(message("p", cstring(`md5${outer}`)));
      }
      return talk.fail(
        new Error(`PostgreSQL asked for authentication method ${code}, which this client does not speak`),
      );
    }
    if (type === "E") {
      const fields = errorFields(body);
      return talk.fail(new Error(`PostgreSQL error ${fields.C ?? ""}: ${fields.M ?? "unknown"}`));
    }
    if (type === "D") return rows.push(dataRow(body));
    if (type === "Z") {
      if (!queried) {
        queried = true;
        return talk.send(message("Q", cstring(sql)));
      }
      talk.send(message("X", Buffer.alloc(0)));
      return talk.done(rows);
    }
  };
  return converse({
    name: "PostgreSQL",
    host,
    port,
    timeoutMs,
    begin: (talk) => talk.send(startupMessage(user, database)),
    receive(buffer, talk) {
      // Each message: a type byte, then a length that counts itself but not the type.
      while (buffer.length >= 5) {
        const length = buffer.readInt32BE(1);
        if (buffer.length < length + 1) break;
        const type = String.fromCharCode(buffer[0]);
        const body = buffer.subarray(5, length + 1);
        buffer = buffer.subarray(length + 1);
        handle(type, body, talk);
      }
      return buffer;
    },
  });
}
