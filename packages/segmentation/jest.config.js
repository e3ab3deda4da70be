/** Tests of @convlab/segmentation, beside the code. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/src"],
  testTimeout: 300000,
};
