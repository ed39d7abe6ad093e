import { defineConfig } from "vitest/config";

// berth brings compose.yml up once before the test files run and down after the last one.
export default defineConfig({
  test: {
    include: ["*.test.ts"],
    globalSetup: ["./berth.setup.ts"],
    hookTimeout: 180_000,
  },
});
