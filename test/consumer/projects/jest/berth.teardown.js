module.exports = require("berth-docker/jest").globalTeardown();
