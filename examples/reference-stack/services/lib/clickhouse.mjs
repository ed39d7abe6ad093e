// ClickHouse over its HTTP interface (port 8123): the query goes in the POST body, the result
// comes back as text (TabSeparated unless the query says otherwise).
import { request } from "node:http";

/** Runs `query`; resolves to the response body, rejects on a non-200 answer with ClickHouse's message. */
export function clickhouseQuery({ host, port = 8123, query, timeoutMs = 5000 }) {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method: "POST", path: "/", timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if (res.statusCode === 200) resolve(body);
        else reject(new Error(`ClickHouse at ${host}:${port} answered ${res.statusCode}: ${body.trim()}`));
      });
    });
    req.on("timeout", () =>
      req.destroy(new Error(`ClickHouse at ${host}:${port}: no answer in ${timeoutMs} ms`)),
    );
    req.on("error", (error) => reject(new Error(`ClickHouse at ${host}:${port}: ${error.message}`)));
    req.end(query);
  });
}
