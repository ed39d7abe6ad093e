// The HTTP shell both services share: `/health` runs every dependency check for real (in
// parallel, each with a deadline) and answers 200 only when all pass; SIGTERM closes the server
// so `docker stop` ends the process at once instead of waiting for SIGKILL.
import { createServer } from "node:http";

async function runCheck(check, timeoutMs) {
  const started = performance.now();
  let timer;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, ms: Math.round(performance.now() - started), error: error.message };
  } finally {
    clearTimeout(timer);
  }
}

/** Starts the service: `checks` maps a dependency name to an async function that throws when it is down. */
export function serve({
  name,
  port = Number(process.env.PORT ?? 8080),
  checks,
  timeoutMs = Number(process.env.HEALTH_CHECK_TIMEOUT_MS ?? 5000),
}) {
  const server = createServer(async (req, res) => {
    if (req.method === "GET" && req.url === "/health") {
      const names = Object.keys(checks);
      const results = await Promise.all(names.map((n) => runCheck(checks[n], timeoutMs)));
      const report = Object.fromEntries(names.map((n, i) => [n, results[i]]));
      const healthy = results.every((r) => r.ok);
      res.writeHead(healthy ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ service: name, status: healthy ? "ok" : "unhealthy", checks: report }));
      return;
    }
    if (req.method === "GET" && req.url === "/") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ service: name, node: process.version }));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "not found" }));
  });
  server.listen(port, "0.0.0.0", () => console.log(`${name} listening on :${port}`));
  process.on("SIGTERM", () => {
    console.log(`${name}: SIGTERM, closing`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
  return server;
}

/** A dependency's address from the environment, e.g. `POSTGRES_HOST`/`POSTGRES_PORT`. */
export function address(prefix, defaultHost, defaultPort) {
  return {
    host: process.env[`${prefix}_HOST`] ?? defaultHost,
    port: Number(process.env[`${prefix}_PORT`] ?? defaultPort),
  };
}
