// auth: healthy when PostgreSQL and Redis both answer a real request.
import { postgresCheck, redisCheck } from "../lib/checks.mjs";
import { serve } from "../lib/service.mjs";

serve({ name: "auth", checks: { postgres: postgresCheck(), redis: redisCheck() } });
