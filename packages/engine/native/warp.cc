// Affine resampling of one image (ImageDataGenerator's rotations, shifts, shears, zooms and
// flips in one pass), with SciPy's ndimage.affine_transform semantics: the same rules as the
// TypeScript fallback in src/warp_affine.ts, which documents them and which the tests
// compare this against. Rows are split over threads when the image is large enough.
#include <omp.h>

#include <cmath>
#include <cstdint>

#include "kernels.h"

namespace convlab {

namespace {

constexpr double kSnap = 1e-9;

// floor() without a libm call: baseline x86-64 (SSE2) has no rounding instruction, so
// std::floor is a function call per coordinate, most of the kernel's time.
inline int64_t floor_int(double v) {
  const auto i = static_cast<int64_t>(v);
  return static_cast<double>(i) > v ? i - 1 : i;
}

// Brings coordinate c of an axis of length n into [0, n - 1]; NaN for constant mode outside.
inline double map_coordinate(double c, int64_t n, WarpFill mode) {
  const double r = std::nearbyint(c);
  if (std::fabs(c - r) < kSnap) c = r;
  const double last = static_cast<double>(n - 1);
  if (c >= 0 && c <= last) return c;
  switch (mode) {
    case WarpFill::kNearest:
      return c < 0 ? 0 : last;
    case WarpFill::kConstant:
      return NAN;
    case WarpFill::kReflect: {
      const double p = 2.0 * static_cast<double>(n);
      double t = std::fmod(std::fmod(c + 0.5, p) + p, p) - 0.5;
      if (t > static_cast<double>(n) - 0.5) t = p - 1 - t;
      return t < 0 ? 0 : (t > last ? last : t);
    }
    case WarpFill::kWrap:
    default: {
      if (n == 1) return 0;
      return std::fmod(std::fmod(c, last) + last, last);
    }
  }
}

template <typename Out>
inline void store(Out* out, double v);
template <>
inline void store<float>(float* out, double v) {
  *out = static_cast<float>(v);
}
template <>
inline void store<uint8_t>(uint8_t* out, double v) {
  double r = std::nearbyint(v);
  *out = static_cast<uint8_t>(r < 0 ? 0 : (r > 255 ? 255 : r));
}

template <typename In, typename Out, int Order>
void warp_rows(const In* src, int64_t h, int64_t w, int64_t channels, Out* out, int64_t oh,
               int64_t ow, const double* m, WarpFill mode, double fill, double scale) {
  const double max_x = static_cast<double>(w - 1);
  const double max_y = static_cast<double>(h - 1);
  const int threads = threads_for_elements(static_cast<double>(oh * ow * channels) * 16);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t y = 0; y < oh; ++y) {
    Out* o = out + y * ow * channels;
    for (int64_t x = 0; x < ow; ++x, o += channels) {
      double sx = m[0] * static_cast<double>(x) + m[1] * static_cast<double>(y) + m[2];
      double sy = m[3] * static_cast<double>(x) + m[4] * static_cast<double>(y) + m[5];
      if (!(sx >= 0 && sx <= max_x && sy >= 0 && sy <= max_y)) {
        sx = map_coordinate(sx, w, mode);
        sy = map_coordinate(sy, h, mode);
        if (std::isnan(sx) || std::isnan(sy)) {
          for (int64_t k = 0; k < channels; ++k) store(o + k, fill);
          continue;
        }
      }
      if constexpr (Order == 0) {
        int64_t ix = floor_int(sx + 0.5);
        int64_t iy = floor_int(sy + 0.5);
        if (ix > w - 1) ix = w - 1;
        if (iy > h - 1) iy = h - 1;
        const In* s = src + (iy * w + ix) * channels;
        for (int64_t k = 0; k < channels; ++k) store(o + k, static_cast<double>(s[k]) * scale);
      } else {
        const int64_t x0 = floor_int(sx);
        const int64_t y0 = floor_int(sy);
        const double fx = sx - static_cast<double>(x0);
        const double fy = sy - static_cast<double>(y0);
        const int64_t dx = x0 < w - 1 ? channels : 0;
        const int64_t dy = y0 < h - 1 ? w * channels : 0;
        const In* s = src + (y0 * w + x0) * channels;
        const double w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
        for (int64_t k = 0; k < channels; ++k) {
          const double v = w00 * s[k] + w01 * s[k + dx] + w10 * s[k + dy] + w11 * s[k + dx + dy];
          store(o + k, v * scale);
        }
      }
    }
  }
}

template <typename In, typename Out>
void warp_typed(const In* src, int64_t h, int64_t w, int64_t c, Out* out, int64_t oh, int64_t ow,
                const double* m, int order, WarpFill mode, double fill, double scale) {
  if (order == 0) {
    warp_rows<In, Out, 0>(src, h, w, c, out, oh, ow, m, mode, fill, scale);
  } else {
    warp_rows<In, Out, 1>(src, h, w, c, out, oh, ow, m, mode, fill, scale);
  }
}

}  // namespace

void warp_affine(const WarpImage& src, const WarpImage& out, const double* matrix, int order,
                 WarpFill mode, double cval, double scale) {
  const double fill = cval * scale;
  const int64_t h = src.height, w = src.width, c = src.channels, oh = out.height, ow = out.width;
  if (src.bytes) {
    const auto* s = static_cast<const uint8_t*>(src.data);
    if (out.bytes) {
      warp_typed(s, h, w, c, static_cast<uint8_t*>(out.data), oh, ow, matrix, order, mode, fill, scale);
    } else {
      warp_typed(s, h, w, c, static_cast<float*>(out.data), oh, ow, matrix, order, mode, fill, scale);
    }
  } else {
    const auto* s = static_cast<const float*>(src.data);
    if (out.bytes) {
      warp_typed(s, h, w, c, static_cast<uint8_t*>(out.data), oh, ow, matrix, order, mode, fill, scale);
    } else {
      warp_typed(s, h, w, c, static_cast<float*>(out.data), oh, ow, matrix, order, mode, fill, scale);
    }
  }
}

}  // namespace convlab
