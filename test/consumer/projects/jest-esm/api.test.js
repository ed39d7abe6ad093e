import { useEnvironment } from "berth-docker/jest";

test("fetches from both services", async () => {
  const env = useEnvironment();
  expect(await (await fetch(env.url("web", 8080))).text()).toBe("web\n");
  expect(await (await fetch(env.url("api", 9000, "/health"))).json()).toEqual({ status: "ok" });
});
