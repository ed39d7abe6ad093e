import { useEnvironment } from "berth-docker/vitest";
import { expect, it } from "vitest";

it("fetches from both services", async () => {
  const env = useEnvironment();
  expect(await (await fetch(env.url("web", 8080))).text()).toBe("web\n");
  expect(await (await fetch(env.url("api", 9000, "/health"))).json()).toEqual({ status: "ok" });
});

it("hands the endpoints to code that reads the environment", () => {
  expect(process.env.API_9000).toMatch(/^127\.0\.0\.1:\d+$/);
});
