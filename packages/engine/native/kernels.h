// Kernels of @convlab/engine's native addon, free of any Node-API type.
//
// Every function here trusts its arguments: addon.cc validates shapes, lengths and
// parameters before calling. Layouts are TensorFlow.js's: activations NHWC, conv filters
// HWIO [kh, kw, in, out], matrices row-major.
//
// Not thread-safe: addon.cc serialises calls with one mutex (the primitive cache, the
// scratchpad and the pooling scratch buffers are shared); inside a call the work runs in
// parallel on the OpenMP team.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace convlab {

/** A failure inside a kernel (oneDNN error, out of memory); addon.cc adds op and shapes. */
struct KernelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/** Geometry of one 2-D convolution; all sizes already validated. */
struct ConvGeometry {
  int64_t n, h, w, c;    // input [n, h, w, c]
  int64_t kh, kw, co;    // filter [kh, kw, c, co]
  int64_t oh, ow;        // output [n, oh, ow, co]
  int64_t sh, sw;        // strides
  int64_t pt, pl, pb, pr;  // pads: top, left, bottom, right
  int64_t dh, dw;        // dilations (1 = none)
  int64_t groups = 1;    // c for a depthwise convolution (filter [kh, kw, c, multiplier], co = c * multiplier)
};

/** Geometry of one 2-D pooling; all sizes already validated. */
struct PoolGeometry {
  int64_t n, h, w, c;
  int64_t kh, kw;
  int64_t oh, ow;
  int64_t sh, sw;
  int64_t pt, pl, pb, pr;
};

/** Geometry of one (batched) matrix product; see matmul() in addon.cc for layouts. */
struct MatMulGeometry {
  int64_t batchA, batchB, m, n, k;
  bool transposeA, transposeB;
};

// --- runtime (runtime.cc) ---
void init_runtime();
int num_threads();
void set_num_threads(int n);
std::string onednn_version();
std::string onednn_isa();
/**
 * Threads for a kernel of `flops` floating-point operations: 1 when waking the OpenMP team
 * would cost more than the second core saves, else num_threads(). When idle OpenMP threads
 * sleep soon (OMP_WAIT_POLICY=passive, or GOMP_SPINCOUNT <= 10000 as loadNativeAddon sets)
 * waking them takes ~20-30 us on a VM, so kernels under ~10 MFLOP (~50 us on one core) run
 * serially; with long-spinning threads the bar is 0.2 MFLOP.
 */
int threads_for_flops(double flops);
/** Same for memory-bound kernels (pooling) touching `elements` floats. */
int threads_for_elements(double elements);
/** A 64-byte aligned buffer of at least `bytes` that stays valid until the next call
 *  with the same slot; slots: 0 oneDNN scratchpad, 1 pooling argmax, 2 matmul. */
void* scratch_buffer(int slot, size_t bytes);

// --- elementwise (elementwise.cc) ---
enum class BinaryOp { Add = 0, Sub = 1, Mul = 2, Div = 3 };
enum class UnaryOp { Relu = 0, Step = 1, Sqrt = 2, Square = 3 };
/**
 * big is [outer, middle, inner] (n values), small [outer, inner] (m values):
 * out = op(big, small repeated along the middle axis), operands swapped when `swapped`.
 */
void binary(BinaryOp op, const float* big, const float* small, float* out, int64_t n, int64_t m,
            int64_t inner, bool swapped);
/** relu, step (x > 0 ? 1 : alpha), sqrt or square; NaN passes through. */
void unary(UnaryOp op, const float* x, float* out, int64_t n, float alpha);
/** x is [outer, rows, cols]: out[a * cols + j] = sum over r of x[(a * rows + r) * cols + j]. */
void sum_columns(const float* x, float* out, int64_t outer, int64_t rows, int64_t cols);
/**
 * One RMSprop step: ms' = rho ms + (1 - rho) g^2; mom' = momentum mom + lr g / d with
 * d = sqrt(ms' + eps) (tfjs) or sqrt(ms') + eps (Keras); value' = value - mom'.
 */
void rmsprop(const float* value, const float* ms, const float* mom, const float* g, float* value_out,
             float* ms_out, float* mom_out, int64_t n, float lr, float rho, float momentum,
             float epsilon, bool epsilon_inside);

// --- convolution (conv.cc), oneDNN ---
void conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    int activation, float* y);
void conv2d_backward_data(const ConvGeometry& g, const float* dy, const float* w, float* dx);
void conv2d_backward_weights(const ConvGeometry& g, const float* x, const float* dy, float* dw);

// --- matrix product (matmul.cc) ---
/** Pins OpenBLAS (when linked) to one thread of its own; parallelism comes from OpenMP. */
void init_matmul();
/** "openblas" or "onednn": which implementation matmul() uses. */
const char* matmul_backend();
void matmul(const MatMulGeometry& g, const float* a, const float* b, const float* bias,
            int activation, float* out);

// --- pooling (pool.cc), OpenMP loops over NHWC ---
// Affine resampling (warp.cc): a batch of HWC images, uint8 or float32 in and out.
// kTfWrap is TensorFlow's wrap (ImageProjectiveTransformV3), the others SciPy's modes.
enum class WarpFill { kNearest = 0, kConstant = 1, kReflect = 2, kWrap = 3, kTfWrap = 4 };
struct WarpImages {
  void* data;
  bool bytes;  // uint8 when true, float32 otherwise
  int64_t count, height, width, channels;
};
// out[i](x, y) = scale * src[i](m[6i] x + m[6i+1] y + m[6i+2], m[6i+3] x + m[6i+4] y + m[6i+5]),
// sampled with `order` 0 (nearest) or 1 (bilinear); images and rows are split over threads.
void warp_affine(const WarpImages& src, const WarpImages& out, const double* matrices, int order,
                 WarpFill mode, double cval, double scale);

void max_pool(const PoolGeometry& g, const float* x, float* y);
void max_pool_backward(const PoolGeometry& g, const float* dy, const float* x, float* dx);
void avg_pool(const PoolGeometry& g, const float* x, float* y);
void avg_pool_backward(const PoolGeometry& g, const float* dy, bool divideByValidCount, float* dx);

}  // namespace convlab
