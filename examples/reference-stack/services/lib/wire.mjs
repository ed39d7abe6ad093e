// One TCP conversation with a service, for the dependency-free clients (pg.mjs, redis.mjs): connect,
// gather what arrives, let the protocol consume it, and settle once (an answer, the service's
// error, a refused or closed connection, or no answer within the deadline).
import { connect } from "node:net";

/**
 * Talks to `host:port`. `begin(talk)` runs once connected; `receive(buffer, talk)` gets everything
 * received and not yet consumed, and returns what it leaves unconsumed. `talk.send(bytes)` writes,
 * `talk.done(value)` resolves, `talk.fail(error)` rejects; the socket is closed either way. `name`
 * names the service in errors ("PostgreSQL at 127.0.0.1:5432: no answer in 5000 ms").
 */
export function converse({ name, host, port, timeoutMs = 5000, begin, receive }) {
  return new Promise((resolve, reject) => {
    const where = `${name} at ${host}:${port}`;
    const socket = connect({ host, port });
    let buffer = Buffer.alloc(0);
    let settled = false;
    const settle = (error, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value);
    };
    const timer = setTimeout(() => settle(new Error(`${where}: no answer in ${timeoutMs} ms`)), timeoutMs);
    const talk = {
      send: (bytes) => socket.write(bytes),
      done: (value) => settle(null, value),
      fail: (error) => settle(error),
    };
    socket.on("connect", () => begin(talk));
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      try {
        buffer = receive(buffer, talk);
      } catch (error) {
        settle(error);
      }
    });
    socket.on("error", (error) => settle(new Error(`${where}: ${error.message}`)));
    socket.on("close", () => settle(new Error(`${where} closed the connection`)));
  });
}
