/** Unit and protocol tests of @convlab/kernel, beside the code. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/src"],
  testTimeout: 120000,
};
