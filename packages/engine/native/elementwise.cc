// Elementwise kernels of a training step (bias add, relu and its mask, the optimizer's
// arithmetic) and column sums (bias gradients). Memory-bound: contiguous loops the compiler
// vectorises, split over threads only when the tensor is large enough to pay for it.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"

namespace convlab {

namespace {

// big is [outer, middle, inner] and small [outer, inner]: small is repeated along the
// middle axis (a bias when outer is 1; a per-sample, per-channel value such as the
// gradient of a global pooling when middle is H x W; a scalar when both are 1).
template <typename Op>
void broadcast_middle(const float* big, const float* small, float* out, int64_t n, int64_t m,
                      int64_t inner, bool swapped, Op op) {
  const int threads = threads_for_elements(static_cast<double>(n));
  if (m == n) {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < n; ++i) out[i] = swapped ? op(small[i], big[i]) : op(big[i], small[i]);
    return;
  }
  if (m == 1) {
    const float s = small[0];
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < n; ++i) out[i] = swapped ? op(s, big[i]) : op(big[i], s);
    return;
  }
  const int64_t rows = n / inner;       // outer * middle rows of `inner` values
  const int64_t middle = n / m;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict b = big + r * inner;
    const float* __restrict sm = small + (r / middle) * inner;
    float* __restrict o = out + r * inner;
    if (inner == 1) {
      o[0] = swapped ? op(sm[0], b[0]) : op(b[0], sm[0]);
    } else if (swapped) {
      for (int64_t j = 0; j < inner; ++j) o[j] = op(sm[j], b[j]);
    } else {
      for (int64_t j = 0; j < inner; ++j) o[j] = op(b[j], sm[j]);
    }
  }
}

// Serial column sums of one [rows, cols] block: float partial sums over blocks of rows
// (contiguous, vectorised), merged in double.
void sum_block(const float* x, double* total, int64_t rows, int64_t cols, float* acc) {
  constexpr int64_t kBlock = 64;
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
    std::fill(acc, acc + cols, 0.0f);
    const int64_t r1 = std::min(rows, r0 + kBlock);
    for (int64_t r = r0; r < r1; ++r) {
      const float* __restrict row = x + r * cols;
      for (int64_t j = 0; j < cols; ++j) acc[j] += row[j];
    }
    for (int64_t j = 0; j < cols; ++j) total[j] += acc[j];
  }
}

}  // namespace

void binary(BinaryOp op, const float* big, const float* small, float* out, int64_t n, int64_t m,
            int64_t inner, bool swapped) {
  switch (op) {
    case BinaryOp::Add:
      return broadcast_middle(big, small, out, n, m, inner, swapped, [](float a, float b) { return a + b; });
    case BinaryOp::Sub:
      return broadcast_middle(big, small, out, n, m, inner, swapped, [](float a, float b) { return a - b; });
    case BinaryOp::Mul:
      return broadcast_middle(big, small, out, n, m, inner, swapped, [](float a, float b) { return a * b; });
    case BinaryOp::Div:
      return broadcast_middle(big, small, out, n, m, inner, swapped, [](float a, float b) { return a / b; });
  }
}

void unary(UnaryOp op, const float* x, float* out, int64_t n, float alpha) {
  const int threads = threads_for_elements(static_cast<double>(n));
  switch (op) {
    case UnaryOp::Relu:
      // NaN stays NaN, as in tfjs.
#pragma omp parallel for schedule(static) num_threads(threads)
      for (int64_t i = 0; i < n; ++i) out[i] = x[i] > 0 ? x[i] : (x[i] != x[i] ? x[i] : 0.0f);
      return;
    case UnaryOp::Step:
#pragma omp parallel for schedule(static) num_threads(threads)
      for (int64_t i = 0; i < n; ++i) out[i] = x[i] != x[i] ? x[i] : (x[i] > 0 ? 1.0f : alpha);
      return;
    case UnaryOp::Sqrt:
#pragma omp parallel for schedule(static) num_threads(threads)
      for (int64_t i = 0; i < n; ++i) out[i] = std::sqrt(x[i]);
      return;
    case UnaryOp::Square:
#pragma omp parallel for schedule(static) num_threads(threads)
      for (int64_t i = 0; i < n; ++i) out[i] = x[i] * x[i];
      return;
  }
}

void sum_columns(const float* x, float* out, int64_t outer, int64_t rows, int64_t cols) {
  // Sums over the middle axis of [outer, rows, cols]: a bias gradient (outer 1), a global
  // pooling (rows H x W), a total (cols 1).
  const int threads = threads_for_elements(static_cast<double>(outer * rows * cols));
  if (outer == 1 && cols == 1) {
    double sum = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : sum) num_threads(threads)
    for (int64_t r0 = 0; r0 < rows; r0 += 4096) {
      const int64_t r1 = std::min(rows, r0 + 4096);
      float part = 0.0f;
#pragma omp simd reduction(+ : part)
      for (int64_t r = r0; r < r1; ++r) part += x[r];
      sum += part;
    }
    out[0] = static_cast<float>(sum);
    return;
  }
  if (outer >= threads) {
#pragma omp parallel num_threads(threads)
    {
      std::vector<double> total(cols);
      std::vector<float> acc(cols);
#pragma omp for schedule(static)
      for (int64_t a = 0; a < outer; ++a) {
        std::fill(total.begin(), total.end(), 0.0);
        sum_block(x + a * rows * cols, total.data(), rows, cols, acc.data());
        for (int64_t j = 0; j < cols; ++j) out[a * cols + j] = static_cast<float>(total[j]);
      }
    }
    return;
  }
  for (int64_t a = 0; a < outer; ++a) {
    const float* block = x + a * rows * cols;
    std::vector<double> total(cols, 0.0);
#pragma omp parallel num_threads(threads)
    {
      std::vector<double> part(cols, 0.0);
      std::vector<float> acc(cols);
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int64_t per = (rows + nt - 1) / nt;
      const int64_t r0 = std::min(rows, t * per), r1 = std::min(rows, r0 + per);
      sum_block(block + r0 * cols, part.data(), r1 - r0, cols, acc.data());
#pragma omp critical
      for (int64_t j = 0; j < cols; ++j) total[j] += part[j];
    }
    for (int64_t j = 0; j < cols; ++j) out[a * cols + j] = static_cast<float>(total[j]);
  }
}

void rmsprop(const float* value, const float* ms, const float* mom, const float* g, float* value_out,
             float* ms_out, float* mom_out, int64_t n, float lr, float rho, float momentum,
             float epsilon, bool epsilon_inside) {
  // The same float operations in the same order as tfjs's RMSPropOptimizer (epsilon inside
  // the square root) or Keras's RMSprop (outside), in one pass instead of ~14 tensor ops.
  const int threads = threads_for_elements(static_cast<double>(n));
  const float keep = 1.0f - rho;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float m2 = ms[i] * rho + (gi * gi) * keep;
    const float denom = epsilon_inside ? std::sqrt(m2 + epsilon) : std::sqrt(m2) + epsilon;
    const float step = mom[i] * momentum + (gi * lr) / denom;
    ms_out[i] = m2;
    mom_out[i] = step;
    value_out[i] = value[i] - step;
  }
}

}  // namespace convlab
