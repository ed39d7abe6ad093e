// Jest's default CommonJS mode: no transform settings, no ESM flags.
module.exports = {
  globalSetup: "./berth.setup.js",
  globalTeardown: "./berth.teardown.js",
  testTimeout: 30_000,
};
