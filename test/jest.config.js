/** Cross-package tests: notebooks through the real kernel, Debian's Jupyter, the notebook server. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  rootDir: __dirname,
  testMatch: ["<rootDir>/**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.json" }] },
  testTimeout: 600000,
  maxWorkers: 1,
};
