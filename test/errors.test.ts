/**
 * One ConvlabError across packages: an error thrown by one package is an instance of the
 * class exported by another (they share a brand, not a module).
 */
import * as engine from "@convlab/engine";
import * as kernel from "@convlab/kernel";

it("an engine error is a kernel ConvlabError and the other way round; subclasses stay specific", () => {
  const fromEngine = engine.fail("engine: invalid x. Expected 1. Received: x=2.");
  const fromKernel = new kernel.ConvlabError("kernel: invalid y.");
  expect(fromEngine).toBeInstanceOf(kernel.ConvlabError);
  expect(fromKernel).toBeInstanceOf(engine.ConvlabError);
  expect(new Error("plain")).not.toBeInstanceOf(engine.ConvlabError);
  expect(fromEngine).not.toBeInstanceOf(engine.OutOfMemoryError);
  expect(new engine.OutOfMemoryError(4)).toBeInstanceOf(kernel.ConvlabError);
});
