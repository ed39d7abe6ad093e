// Jest's ESM mode (node --experimental-vm-modules): no transform, ES modules as they are.
export default {
  globalSetup: "./berth.setup.js",
  globalTeardown: "./berth.teardown.js",
  transform: {},
  testTimeout: 30_000,
};
