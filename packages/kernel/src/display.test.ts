import { display, isMimeBundle, mimeBundle, newDisplay, normalizeBundle, setSession } from "./display";

describe("mimeBundle", () => {
  it("marks a bundle and rejects keys that are not mime types", () => {
    const bundle = mimeBundle({ "text/html": "<b>x</b>" });
    expect(isMimeBundle(bundle)).toBe(true);
    expect(isMimeBundle({ "text/html": "<b>x</b>" })).toBe(false);
    expect(() => mimeBundle({ html: "x" } as never)).toThrow(
      'mimeBundle: invalid bundle. Expected an object keyed by mime types such as "text/html". Received: {"html":"x"}.',
    );
  });
});

describe("normalizeBundle", () => {
  it("base64-encodes bytes and adds text/plain", () => {
    const data = normalizeBundle({ "image/png": new Uint8Array([1, 2, 3]) }, { some: "value" });
    expect(data).toEqual({ "image/png": "AQID", "text/plain": "{ some: 'value' }" });
  });
});

describe("display and newDisplay", () => {
  afterEach(() => setSession(undefined));

  it("send rendered bundles to the kernel session; updates reuse the display id", () => {
    const sent: Array<[unknown, string | undefined, boolean | undefined]> = [];
    setSession({ render: (v) => ({ "text/plain": `<${String(v)}>` }), send: (b, id, update) => sent.push([b, id, update]) });
    display(1);
    const bar = newDisplay();
    bar.update(10);
    bar.update(20);
    expect(sent[0]).toEqual([{ "text/plain": "<1>" }, undefined, undefined]);
    expect(sent[1][1]).toBe(sent[2][1]);
    expect([sent[1][2], sent[2][2]]).toEqual([false, true]);
    expect(sent[2][0]).toEqual({ "text/plain": "<20>" });
  });

  it("print plain text outside a kernel", () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, "write").mockImplementation((s) => (writes.push(String(s)), true));
    display({ a: 1 });
    spy.mockRestore();
    expect(writes).toEqual(["{ a: 1 }\n"]);
  });
});
