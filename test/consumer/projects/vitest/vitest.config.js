import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { include: ["*.test.js"], globalSetup: ["./berth.setup.js"], hookTimeout: 180_000 },
});
