// backend: healthy when PostgreSQL, Redis and ClickHouse all answer a real request.
import { clickhouseCheck, postgresCheck, redisCheck } from "../lib/checks.mjs";
import { serve } from "../lib/service.mjs";

serve({
  name: "backend",
  checks: { postgres: postgresCheck(), redis: redisCheck(), clickhouse: clickhouseCheck() },
});
