/**
 * A minimal WebAssembly assembler: enough to emit the few SIMD loops of
 * convlab's wasm kernels as a module that imports tfjs's wasm memory.
 *
 * Why emit code at run time: tfjs-backend-wasm exposes no way to add C++
 * kernels, and a prebuilt .wasm would need a C toolchain to rebuild. The
 * kernels are short loops over f32x4 vectors; writing them against this
 * builder keeps their source readable TypeScript, and the resulting module
 * shares the memory of tfjs's module (shared in the threaded build), so it
 * reads and writes tensors in place.
 *
 * Only what the kernels use is here: i32 and f32 scalars, v128 loads/stores,
 * f32x4/i32x4 arithmetic, comparisons and bit selects, blocks, loops and
 * branches. Addresses are byte offsets into the imported memory.
 */

/** Value type i32 (also used for byte addresses). */
export const I32 = 0x7f;
/** Value type f32. */
export const F32 = 0x7d;
/** Value type v128 (four f32 or four i32 lanes). */
export const V128 = 0x7b;
/** A value type the assembler emits. */
export type ValType = typeof I32 | typeof F32 | typeof V128;

function uleb(value: number, out: number[]): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

function sleb(value: number, out: number[]): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function name(text: string, out: number[]): void {
  const bytes = Buffer.from(text, "utf8");
  uleb(bytes.length, out);
  out.push(...bytes);
}

function section(id: number, body: number[], out: number[]): void {
  out.push(id);
  uleb(body.length, out);
  out.push(...body);
}

/** A local variable (or parameter) of a function under construction. */
export type Local = number & { readonly __local: unique symbol };

/**
 * One function: parameters are i32 unless told otherwise, results none.
 * Emitting methods return `this`, so code reads as a stack-machine listing.
 */
export class Fn {
  readonly code: number[] = [];
  private readonly extra: ValType[] = [];
  readonly params: Local[];

  constructor(
    readonly exportName: string,
    private readonly paramTypes: ValType[],
  ) {
    this.params = paramTypes.map((_, i) => i as Local);
  }

  /** A new local of type `type`. */
  local(type: ValType = I32): Local {
    this.extra.push(type);
    return (this.paramTypes.length + this.extra.length - 1) as Local;
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  private simd(opcode: number, ...imm: number[]): this {
    this.code.push(0xfd);
    uleb(opcode, this.code);
    this.code.push(...imm);
    return this;
  }

  get(l: Local): this {
    this.op(0x20);
    uleb(l, this.code);
    return this;
  }
  set(l: Local): this {
    this.op(0x21);
    uleb(l, this.code);
    return this;
  }
  tee(l: Local): this {
    this.op(0x22);
    uleb(l, this.code);
    return this;
  }
  i32(value: number): this {
    this.op(0x41);
    sleb(value, this.code);
    return this;
  }
  f32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    return this.op(0x43, ...b);
  }
  add(): this {
    return this.op(0x6a);
  }
  sub(): this {
    return this.op(0x6b);
  }
  mul(): this {
    return this.op(0x6c);
  }
  /** i32 signed `<`. */
  lt(): this {
    return this.op(0x48);
  }
  /** i32 unsigned `<` (a single test for 0 ≤ a < b when b ≥ 0). */
  ltu(): this {
    return this.op(0x49);
  }
  /** i32 signed `>=`. */
  ge(): this {
    return this.op(0x4e);
  }
  eqz(): this {
    return this.op(0x45);
  }
  select(): this {
    return this.op(0x1b);
  }
  f32load(offset = 0): this {
    this.op(0x2a, 2);
    uleb(offset, this.code);
    return this;
  }
  f32store(offset = 0): this {
    this.op(0x38, 2);
    uleb(offset, this.code);
    return this;
  }
  v128load(offset = 0): this {
    this.simd(0x00, 0);
    uleb(offset, this.code);
    return this;
  }
  v128store(offset = 0): this {
    this.simd(0x0b, 0);
    uleb(offset, this.code);
    return this;
  }
  i32x4splat(): this {
    return this.simd(0x11);
  }
  f32x4splat(): this {
    return this.simd(0x13);
  }
  i32x4eq(): this {
    return this.simd(0x37);
  }
  f32x4gt(): this {
    return this.simd(0x44);
  }
  v128and(): this {
    return this.simd(0x4e);
  }
  /** `a & ~b`. */
  v128andnot(): this {
    return this.simd(0x4f);
  }
  /** `bitselect(a, b, mask)`: bits of a where mask is 1, of b elsewhere. */
  bitselect(): this {
    return this.simd(0x52);
  }
  f32x4add(): this {
    return this.simd(0xe4);
  }
  f32x4mul(): this {
    return this.simd(0xe6);
  }
  /** `block … end`; `br 0` inside (outside any inner block) leaves it. */
  block(body: () => void): this {
    this.op(0x02, 0x40);
    body();
    return this.op(0x0b);
  }
  /** `loop … end`; `br 0` inside jumps back to its start. */
  loop(body: () => void): this {
    this.op(0x03, 0x40);
    body();
    return this.op(0x0b);
  }
  /** `if … end` on the i32 on the stack. */
  if(body: () => void): this {
    this.op(0x04, 0x40);
    body();
    return this.op(0x0b);
  }
  br(depth: number): this {
    this.op(0x0c);
    uleb(depth, this.code);
    return this;
  }
  brIf(depth: number): this {
    this.op(0x0d);
    uleb(depth, this.code);
    return this;
  }

  /**
   * `for (i = from; i < to; i += step) body` (signed compare): `from` pushes
   * the start once, `to` the bound before every iteration. The body runs in
   * its own block, so `brIf(0)` at its top level means `continue`.
   */
  for(i: Local, from: () => void, to: () => void, body: () => void, step = 1): this {
    from();
    this.set(i);
    return this.block(() => {
      this.loop(() => {
        this.get(i);
        to();
        this.ge().brIf(1);
        this.block(body);
        this.get(i).i32(step).add().set(i).br(0);
      });
    });
  }

  /** The function body as bytes (locals declaration + code + end). */
  body(): number[] {
    const out: number[] = [];
    uleb(this.extra.length, out);
    for (const t of this.extra) {
      out.push(1, t);
    }
    out.push(...this.code, 0x0b);
    return out;
  }

  signature(): number[] {
    const out = [0x60];
    uleb(this.paramTypes.length, out);
    out.push(...this.paramTypes);
    out.push(0);
    return out;
  }
}

/**
 * Encodes a module importing `env.memory` (shared with maximum 65536 pages
 * when `shared`, else unshared without maximum) and exporting `functions`.
 */
export function assemble(functions: Fn[], shared: boolean): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(functions.length, types);
  for (const f of functions) types.push(...f.signature());
  section(1, types, out);
  const imports: number[] = [];
  uleb(1, imports);
  name("env", imports);
  name("memory", imports);
  imports.push(0x02);
  if (shared) {
    imports.push(0x03);
    uleb(1, imports);
    uleb(65536, imports);
  } else {
    imports.push(0x00);
    uleb(1, imports);
  }
  section(2, imports, out);
  const funcs: number[] = [];
  uleb(functions.length, funcs);
  functions.forEach((_, i) => uleb(i, funcs));
  section(3, funcs, out);
  const exports: number[] = [];
  uleb(functions.length, exports);
  functions.forEach((f, i) => {
    name(f.exportName, exports);
    exports.push(0x00);
    uleb(i, exports);
  });
  section(7, exports, out);
  const code: number[] = [];
  uleb(functions.length, code);
  for (const f of functions) {
    const body = f.body();
    uleb(body.length, code);
    code.push(...body);
  }
  section(10, code, out);
  return Uint8Array.from(out);
}
