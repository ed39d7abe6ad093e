// Dependency checks that prove a round trip, not just an open port: a SQL query, a Redis PING,
// a ClickHouse SELECT.
import { clickhouseQuery } from "./clickhouse.mjs";
import { pgQuery } from "./pg.mjs";
import { redisCommands } from "./redis.mjs";
import { address } from "./service.mjs";

export function postgresCheck() {
  const target = {
    ...address("POSTGRES", "postgres", 5432),
    user: process.env.POSTGRES_USER ?? "postgres",
    password: process.env.POSTGRES_PASSWORD ?? "",
    database: process.env.POSTGRES_DB ?? process.env.POSTGRES_USER ?? "postgres",
  };
  return async () => {
    const rows = await pgQuery({ ...target, sql: "SELECT 1" });
    if (rows[0]?.[0] !== "1") throw new Error(`SELECT 1 returned ${JSON.stringify(rows)}`);
  };
}

export function redisCheck() {
  const target = address("REDIS", "redis", 6379);
  return async () => {
    const [reply] = await redisCommands({ ...target, commands: [["PING"]] });
    if (reply !== "PONG") throw new Error(`PING returned ${JSON.stringify(reply)}`);
  };
}

export function clickhouseCheck() {
  const target = address("CLICKHOUSE", "clickhouse", 8123);
  return async () => {
    const body = await clickhouseQuery({ ...target, query: "SELECT 1" });
    if (body.trim() !== "1") throw new Error(`SELECT 1 returned ${JSON.stringify(body)}`);
  };
}
