// Elementwise kernels of a training step (bias add, relu and its mask, the optimizer's
// arithmetic) and column sums (bias gradients). Memory-bound: contiguous loops the compiler
// vectorises, split over threads only when the tensor is large enough to pay for it.
#include <omp.h>

#include <cmath>
#include <vector>

#include "kernels.h"

namespace convlab {

namespace {

template <typename Op>
void broadcast_rows(const float* big, const float* small, float* out, int64_t n, int64_t m,
                    bool swapped, Op op) {
  const int threads = threads_for_elements(static_cast<double>(n));
  const int64_t rows = n / m;
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
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict b = big + r * m;
    float* __restrict o = out + r * m;
    if (swapped) {
      for (int64_t j = 0; j < m; ++j) o[j] = op(small[j], b[j]);
    } else {
      for (int64_t j = 0; j < m; ++j) o[j] = op(b[j], small[j]);
    }
  }
}

}  // namespace

void binary(BinaryOp op, const float* big, const float* small, float* out, int64_t n, int64_t m,
            bool swapped) {
  switch (op) {
    case BinaryOp::Add:
      return broadcast_rows(big, small, out, n, m, swapped, [](float a, float b) { return a + b; });
    case BinaryOp::Sub:
      return broadcast_rows(big, small, out, n, m, swapped, [](float a, float b) { return a - b; });
    case BinaryOp::Mul:
      return broadcast_rows(big, small, out, n, m, swapped, [](float a, float b) { return a * b; });
    case BinaryOp::Div:
      return broadcast_rows(big, small, out, n, m, swapped, [](float a, float b) { return a / b; });
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

void sum_columns(const float* x, float* out, int64_t rows, int64_t cols) {
  const int threads = threads_for_elements(static_cast<double>(rows * cols));
  std::vector<double> total(cols, 0.0);
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> part(cols, 0.0);
#pragma omp for schedule(static) nowait
    for (int64_t r = 0; r < rows; ++r) {
      const float* __restrict row = x + r * cols;
      for (int64_t j = 0; j < cols; ++j) part[j] += row[j];
    }
#pragma omp critical
    for (int64_t j = 0; j < cols; ++j) total[j] += part[j];
  }
  for (int64_t j = 0; j < cols; ++j) out[j] = static_cast<float>(total[j]);
}

}  // namespace convlab
