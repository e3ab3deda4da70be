/**
 * The Python-like formatting used in messages and Keras texts, and the
 * option checks shared by every unit.
 */
import { checkNumber, checkOptions, pyExp4, pyFloat, pyShape, thousands } from "./validate";

describe("Python-like formatting", () => {
  it("prints floats as Python's repr", () => {
    expect([0.1, 0.1 * 0.9, 1e-5, 1.5e-5, 1, 100, 0.0001, 1e16, 123456.5, -0.25, 0].map(pyFloat)).toEqual([
      "0.1",
      "0.09000000000000001",
      "1e-05",
      "1.5e-05",
      "1.0",
      "100.0",
      "0.0001",
      "1e+16",
      "123456.5",
      "-0.25",
      "0.0",
    ]);
    expect([Infinity, -Infinity, NaN].map(pyFloat)).toEqual(["inf", "-inf", "nan"]);
  });

  it("prints %.4e, shapes as tuples and thousands separators", () => {
    expect([0.0005, 0, 1.23456e-10].map(pyExp4)).toEqual(["5.0000e-04", "0.0000e+00", "1.2346e-10"]);
    expect([pyShape([null, 26, 26, 32]), pyShape([null]), pyShape([])]).toEqual(["(None, 26, 26, 32)", "(None,)", "()"]);
    expect([0, 999, 1000, 93322, 1234567].map(thousands)).toEqual(["0", "999", "1,000", "93,322", "1,234,567"]);
  });
});

describe("option checks", () => {
  it("accept known keys and reject others with a hint", () => {
    expect(checkOptions("unit", { a: 1 }, ["a", "bee"])).toEqual({ a: 1 });
    expect(checkOptions("unit", undefined, ["a"])).toEqual({});
    expect(() => checkOptions("unit", { be: 1 }, ["a", "bee"])).toThrow("unit: invalid option `be`. Expected keys among `a`, `bee`. Received: be=1. Did you mean `bee`?");
    expect(() => checkOptions("unit", 3, ["a"])).toThrow("unit: invalid options. Expected an object with keys among `a`. Received: 3.");
  });

  it("check numbers and ranges", () => {
    expect(checkNumber("unit", "x", 0.5, { min: 0, max: 1 })).toBe(0.5);
    expect(() => checkNumber("unit", "x", 2, { min: 0, max: 1, exclusiveMax: true })).toThrow("unit: invalid x. Expected a number in [0, 1). Received: x=2.");
    expect(() => checkNumber("unit", "n", 1.5, { min: 1, integer: true })).toThrow("unit: invalid n. Expected an integer >= 1. Received: n=1.5.");
    expect(() => checkNumber("unit", "n", "3")).toThrow('unit: invalid n. Expected a number. Received: n="3".');
  });
});
