// Max and average pooling over NHWC, forward and backward, with TensorFlow.js cpu semantics.
//
// Memory-bound loops: the channel loop is innermost and contiguous so the compiler
// vectorises it; rows are split across the OpenMP team. The backward passes gather (each
// dx element sums the dy of the windows that contain it, in ascending window order, as
// tfjs does), so there are no write races and results do not depend on the thread count.
//
// Semantics copied from @tensorflow/tfjs-backend-cpu 4.22 (utils/pool_utils.js,
// kernels/MaxPoolGrad.js, kernels/AvgPoolGrad.js):
//  - max: padding is -Infinity; the first strict maximum in row-major window order wins
//    (ties go to the earliest element, NaN is never selected); a window with no value
//    above -Infinity outputs -Infinity and routes no gradient.
//  - avg forward: divides by the number of valid (non-padding) positions in the window.
//  - avg backward: tfjs divides by the full window size kh*kw even at padded borders
//    (inconsistent with its forward); `divideByValidCount` selects the exact gradient.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels.h"

namespace convlab {

namespace {

/** First output row (or column) whose window covers input row `y`. */
inline int64_t first_covering(int64_t y, int64_t pad, int64_t k, int64_t s) {
  int64_t num = y + pad - k + 1;
  return num <= 0 ? 0 : (num + s - 1) / s;
}

/** Last output row (or column) whose window covers input row `y`, clipped to `out - 1`. */
inline int64_t last_covering(int64_t y, int64_t pad, int64_t s, int64_t out) {
  return std::min(out - 1, (y + pad) / s);
}

/** `value` when `keep`, else +0; without a branch (and without 0 * Infinity = NaN). */
inline float select_bits(bool keep, float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  bits &= -static_cast<uint32_t>(keep);
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

}  // namespace

void max_pool(const PoolGeometry& g, const float* x, float* y) {
  const int64_t C = g.c;
  const int threads = threads_for_elements(static_cast<double>(g.n) * g.h * g.w * C);
  const float neg_inf = -std::numeric_limits<float>::infinity();
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t row = 0; row < g.n * g.oh; ++row) {
    const int64_t b = row / g.oh, oy = row % g.oh;
    const int64_t y0 = oy * g.sh - g.pt;
    const int64_t ys = std::max<int64_t>(y0, 0), ye = std::min(y0 + g.kh, g.h);
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      const int64_t x0 = ox * g.sw - g.pl;
      const int64_t xs = std::max<int64_t>(x0, 0), xe = std::min(x0 + g.kw, g.w);
      float* __restrict o = y + ((b * g.oh + oy) * g.ow + ox) * C;
      for (int64_t c = 0; c < C; ++c) o[c] = neg_inf;
      for (int64_t yy = ys; yy < ye; ++yy) {
        for (int64_t xx = xs; xx < xe; ++xx) {
          const float* __restrict p = x + ((b * g.h + yy) * g.w + xx) * C;
          for (int64_t c = 0; c < C; ++c) o[c] = p[c] > o[c] ? p[c] : o[c];
        }
      }
    }
  }
}

void max_pool_backward(const PoolGeometry& g, const float* dy, const float* x, float* dx) {
  const int64_t C = g.c;
  const int threads = threads_for_elements(2.0 * g.n * g.h * g.w * C);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  // Pass 1: for every output element, the position (wy * kw + wx, relative to the padded
  // window's corner) of its first maximum, or -1 when nothing beats -Infinity.
  int32_t* argmax =
      static_cast<int32_t*>(scratch_buffer(1, sizeof(int32_t) * g.n * g.oh * g.ow * C));
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> best(C);
#pragma omp for schedule(static)
    for (int64_t row = 0; row < g.n * g.oh; ++row) {
      const int64_t b = row / g.oh, oy = row % g.oh;
      const int64_t y0 = oy * g.sh - g.pt;
      const int64_t ys = std::max<int64_t>(y0, 0), ye = std::min(y0 + g.kh, g.h);
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t x0 = ox * g.sw - g.pl;
        const int64_t xs = std::max<int64_t>(x0, 0), xe = std::min(x0 + g.kw, g.w);
        int32_t* __restrict idx = argmax + ((b * g.oh + oy) * g.ow + ox) * C;
        float* __restrict m = best.data();
        for (int64_t c = 0; c < C; ++c) {
          m[c] = neg_inf;
          idx[c] = -1;
        }
        for (int64_t yy = ys; yy < ye; ++yy) {
          for (int64_t xx = xs; xx < xe; ++xx) {
            const float* __restrict p = x + ((b * g.h + yy) * g.w + xx) * C;
            const int32_t pos = static_cast<int32_t>((yy - y0) * g.kw + (xx - x0));
            // Branch-free so it vectorises: maxima are random, branches would mispredict.
            for (int64_t c = 0; c < C; ++c) {
              const float v = p[c], best_v = m[c];
              const int32_t more = -static_cast<int32_t>(v > best_v);
              m[c] = v > best_v ? v : best_v;
              idx[c] = (idx[c] & ~more) | (pos & more);
            }
          }
        }
      }
    }
  }
  // Pass 2: each dx element gathers dy from the windows whose maximum it is.
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t row = 0; row < g.n * g.h; ++row) {
    const int64_t b = row / g.h, yy = row % g.h;
    const int64_t oy0 = first_covering(yy, g.pt, g.kh, g.sh);
    const int64_t oy1 = last_covering(yy, g.pt, g.sh, g.oh);
    for (int64_t xx = 0; xx < g.w; ++xx) {
      float* __restrict d = dx + ((b * g.h + yy) * g.w + xx) * C;
      for (int64_t c = 0; c < C; ++c) d[c] = 0.0f;
      const int64_t ox0 = first_covering(xx, g.pl, g.kw, g.sw);
      const int64_t ox1 = last_covering(xx, g.pl, g.sw, g.ow);
      for (int64_t oy = oy0; oy <= oy1; ++oy) {
        const int64_t wy = yy - (oy * g.sh - g.pt);
        for (int64_t ox = ox0; ox <= ox1; ++ox) {
          const int32_t pos = static_cast<int32_t>(wy * g.kw + (xx - (ox * g.sw - g.pl)));
          const int64_t o = ((b * g.oh + oy) * g.ow + ox) * C;
          const int32_t* __restrict idx = argmax + o;
          const float* __restrict grad = dy + o;
          for (int64_t c = 0; c < C; ++c) d[c] += select_bits(idx[c] == pos, grad[c]);
        }
      }
    }
  }
}

void avg_pool(const PoolGeometry& g, const float* x, float* y) {
  const int64_t C = g.c;
  const int threads = threads_for_elements(static_cast<double>(g.n) * g.h * g.w * C);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t row = 0; row < g.n * g.oh; ++row) {
    const int64_t b = row / g.oh, oy = row % g.oh;
    const int64_t y0 = oy * g.sh - g.pt;
    const int64_t ys = std::max<int64_t>(y0, 0), ye = std::min(y0 + g.kh, g.h);
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      const int64_t x0 = ox * g.sw - g.pl;
      const int64_t xs = std::max<int64_t>(x0, 0), xe = std::min(x0 + g.kw, g.w);
      float* __restrict o = y + ((b * g.oh + oy) * g.ow + ox) * C;
      for (int64_t c = 0; c < C; ++c) o[c] = 0.0f;
      for (int64_t yy = ys; yy < ye; ++yy) {
        for (int64_t xx = xs; xx < xe; ++xx) {
          const float* __restrict p = x + ((b * g.h + yy) * g.w + xx) * C;
          for (int64_t c = 0; c < C; ++c) o[c] += p[c];
        }
      }
      // A window entirely in the padding gives 0/0 = NaN, as in tfjs.
      const float count = static_cast<float>(std::max<int64_t>(ye - ys, 0) * std::max<int64_t>(xe - xs, 0));
      for (int64_t c = 0; c < C; ++c) o[c] /= count;
    }
  }
}

void avg_pool_backward(const PoolGeometry& g, const float* dy, bool divideByValidCount, float* dx) {
  const int64_t C = g.c;
  const int threads = threads_for_elements(static_cast<double>(g.n) * g.h * g.w * C);
  const float window_scale = 1.0f / static_cast<float>(g.kh * g.kw);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t row = 0; row < g.n * g.h; ++row) {
    const int64_t b = row / g.h, yy = row % g.h;
    const int64_t oy0 = first_covering(yy, g.pt, g.kh, g.sh);
    const int64_t oy1 = last_covering(yy, g.pt, g.sh, g.oh);
    for (int64_t xx = 0; xx < g.w; ++xx) {
      float* __restrict d = dx + ((b * g.h + yy) * g.w + xx) * C;
      for (int64_t c = 0; c < C; ++c) d[c] = 0.0f;
      const int64_t ox0 = first_covering(xx, g.pl, g.kw, g.sw);
      const int64_t ox1 = last_covering(xx, g.pl, g.sw, g.ow);
      for (int64_t oy = oy0; oy <= oy1; ++oy) {
        const int64_t y0 = oy * g.sh - g.pt;
        const int64_t rows = std::min(y0 + g.kh, g.h) - std::max<int64_t>(y0, 0);
        for (int64_t ox = ox0; ox <= ox1; ++ox) {
          const float* __restrict grad = dy + ((b * g.oh + oy) * g.ow + ox) * C;
          if (divideByValidCount) {
            const int64_t x0 = ox * g.sw - g.pl;
            const int64_t cols = std::min(x0 + g.kw, g.w) - std::max<int64_t>(x0, 0);
            const float scale = 1.0f / static_cast<float>(rows * cols);
            for (int64_t c = 0; c < C; ++c) d[c] += grad[c] * scale;
          } else {
            for (int64_t c = 0; c < C; ++c) d[c] += grad[c];
          }
        }
      }
      if (!divideByValidCount) {
        for (int64_t c = 0; c < C; ++c) d[c] *= window_scale;
      }
    }
  }
}

}  // namespace convlab
