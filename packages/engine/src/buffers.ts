/**
 * Typed arrays for outputs that a kernel overwrites completely (a batch the warp fills, a
 * buffer about to receive copies): without the zero-fill of `new Float32Array(n)`, which
 * for an 8.6 MB augmentation batch costs as much as a fifth of the warp itself.
 */

/**
 * A `Float32Array` or `Uint8Array` of `length` elements whose contents are arbitrary: every
 * element must be written before it is read. Node's `Buffer.allocUnsafeSlow` memory, in its
 * own `ArrayBuffer` (offset 0, so aligned for any element type).
 */
export function uninitializedArray(type: "float32", length: number): Float32Array;
export function uninitializedArray(type: "uint8", length: number): Uint8Array;
export function uninitializedArray(type: "float32" | "uint8", length: number): Float32Array | Uint8Array;
export function uninitializedArray(type: "float32" | "uint8", length: number): Float32Array | Uint8Array {
  const bytes = type === "float32" ? 4 * length : length;
  const buffer = Buffer.allocUnsafeSlow(bytes).buffer;
  return type === "float32" ? new Float32Array(buffer, 0, length) : new Uint8Array(buffer, 0, length);
}
