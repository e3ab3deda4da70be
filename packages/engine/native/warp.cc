// Affine resampling of a batch of images (ImageDataGenerator's rotations, shifts, shears,
// zooms and flips in one pass; the affine rows of tf.image.transform), with SciPy's
// ndimage.affine_transform rules plus TensorFlow's wrap: the same rules as the TypeScript
// fallback in src/warp_affine.ts, which documents them and which the tests compare this
// against. Images and rows are split over threads together.
#include <omp.h>

#include <cmath>
#include <cstdint>

#include "kernels.h"

namespace convlab {

namespace {

constexpr double kSnap = 1e-4;  // px: float32 maps (tf.image.transform) land this close to an edge

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
    case WarpFill::kTfWrap: {
      // TensorFlow's formula: whole periods of n removed, counted in units of n - 1, then clamped.
      if (n == 1) return 0;
      const double len = static_cast<double>(n);
      double t = c < 0 ? c + len * (std::trunc(-c / last) + 1) : c - len * std::trunc(c / last);
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

// One output row. C is the channel count when known at compile time (1, 3, 4), else 0. `lut`
// (uint8 sources only) holds store(v * scale) for every byte v: nearest sampling is then a
// table read, the same value as the arithmetic without its int-to-double-to-float conversions.
template <typename In, typename Out, int Order, int C>
void warp_pixels(const In* src, int64_t h, int64_t w, int64_t channels, Out* o, int64_t ow, int64_t y,
              const double* m, WarpFill mode, double fill, double scale, const Out* lut, int64_t x_start = 0) {
  const int64_t ch = C > 0 ? C : channels;
  const double max_x = static_cast<double>(w - 1);
  const double max_y = static_cast<double>(h - 1);
  const double yd = static_cast<double>(y);
  double xd = static_cast<double>(x_start) - 1.0;
  for (int64_t x = 0; x < ow; ++x, o += ch) {
    xd += 1.0;  // exact for integers, and no int-to-double conversion per pixel
    double sx = m[0] * xd + m[1] * yd + m[2];
    double sy = m[3] * xd + m[4] * yd + m[5];
    if (!(sx >= 0 && sx <= max_x && sy >= 0 && sy <= max_y)) {
      sx = map_coordinate(sx, w, mode);
      sy = map_coordinate(sy, h, mode);
      if (std::isnan(sx) || std::isnan(sy)) {
        for (int64_t k = 0; k < ch; ++k) store(o + k, fill);
        continue;
      }
    }
    if constexpr (Order == 0) {
      int64_t ix = floor_int(sx + 0.5);
      int64_t iy = floor_int(sy + 0.5);
      if (ix > w - 1) ix = w - 1;
      if (iy > h - 1) iy = h - 1;
      const In* s = src + (iy * w + ix) * ch;
      if constexpr (sizeof(In) == 1) {
        for (int64_t k = 0; k < ch; ++k) o[k] = lut[s[k]];
      } else {
        for (int64_t k = 0; k < ch; ++k) store(o + k, static_cast<double>(s[k]) * scale);
      }
    } else {
      const int64_t x0 = floor_int(sx);
      const int64_t y0 = floor_int(sy);
      const double fx = sx - static_cast<double>(x0);
      const double fy = sy - static_cast<double>(y0);
      const int64_t dx = x0 < w - 1 ? ch : 0;
      const int64_t dy = y0 < h - 1 ? w * ch : 0;
      const In* s = src + (y0 * w + x0) * ch;
      const double w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
      for (int64_t k = 0; k < ch; ++k) {
        const double v = w00 * s[k] + w01 * s[k + dx] + w10 * s[k + dy] + w11 * s[k + dx + dy];
        store(o + k, v * scale);
      }
    }
  }
}

// Nearest sampling of one row in two passes: source offsets for a block of pixels first (a
// loop the compiler vectorises: a point inside the source needs only a truncation), then the
// copies. With nearest fill (ClampAll) every point is read clamped; with constant fill a point
// outside is the fill (-2); with reflect and wrap it goes through warp_pixels (-1). Compiled
// twice, for baseline x86-64 and for AVX2 (four doubles per vector; no FMA, so the coordinates
// round as in warp_pixels and the TypeScript fallback), chosen at load time.
template <typename In, typename Out, int C, bool ClampAll>
__attribute__((target_clones("avx2", "default"))) void warp_row_nearest(
    const In* src, int64_t h, int64_t w, int64_t channels, Out* o, int64_t ow, int64_t y, const double* m,
    WarpFill mode, double fill, double scale, const Out* lut) {
  constexpr int64_t kBlock = 256;
  const int64_t ch = C > 0 ? C : channels;
  const double max_x = static_cast<double>(w - 1);
  const double max_y = static_cast<double>(h - 1);
  const double yd = static_cast<double>(y);
  const double bx = m[1] * yd;
  const double by = m[4] * yd;
  const double m0 = m[0], m2 = m[2], m3 = m[3], m5 = m[5];
  int32_t index[kBlock];
  const int32_t outside = mode == WarpFill::kConstant ? -2 : -1;
  // 32-bit offsets: SSE2 converts int32 (not int64) to double in vectors.
  const int32_t row_stride = static_cast<int32_t>(w), pixel = static_cast<int32_t>(ch);
  for (int64_t x0 = 0; x0 < ow; x0 += kBlock) {
    const int32_t n = static_cast<int32_t>(ow - x0 < kBlock ? ow - x0 : kBlock);
    const double start = static_cast<double>(x0);
    int32_t any_outside = 0;
    for (int32_t j = 0; j < n; ++j) {
      const double xd = start + static_cast<double>(j);
      const double sx = m0 * xd + bx + m2;
      const double sy = m3 * xd + by + m5;
      // Clamped to [0, last], floor(v + 0.5) is a truncation and stays within the image.
      const double cx = sx < 0 ? 0 : (sx > max_x ? max_x : sx);
      const double cy = sy < 0 ? 0 : (sy > max_y ? max_y : sy);
      const int32_t at = (static_cast<int32_t>(cy + 0.5) * row_stride + static_cast<int32_t>(cx + 0.5)) * pixel;
      if constexpr (ClampAll) {
        index[j] = at;
      } else {
        // Outside by less than kSnap (map_coordinate's rule) still reads the edge pixel.
        const bool inside = (sx >= -kSnap) & (sx <= max_x + kSnap) & (sy >= -kSnap) & (sy <= max_y + kSnap);  // & keeps the loop branch-free
        index[j] = inside ? at : outside;
        any_outside |= !inside;
      }
    }
    Out* out = o + x0 * ch;
    if (!any_outside) {
      // The common case, branch-free: every point of the block reads a source pixel.
      for (int32_t j = 0; j < n; ++j, out += ch) {
        const In* sp = src + index[j];
        if constexpr (sizeof(In) == 1) {
          for (int64_t k = 0; k < ch; ++k) out[k] = lut[sp[k]];
        } else {
          for (int64_t k = 0; k < ch; ++k) store(out + k, static_cast<double>(sp[k]) * scale);
        }
      }
      continue;
    }
    for (int64_t j = 0; j < n; ++j, out += ch) {
      if (index[j] == -2) {
        for (int64_t k = 0; k < ch; ++k) store(out + k, fill);
        continue;
      }
      if (index[j] < 0) {
        warp_pixels<In, Out, 0, C>(src, h, w, channels, out, 1, y, m, mode, fill, scale, lut, x0 + j);
        continue;
      }
      const In* sp = src + index[j];
      if constexpr (sizeof(In) == 1) {
        for (int64_t k = 0; k < ch; ++k) out[k] = lut[sp[k]];
      } else {
        for (int64_t k = 0; k < ch; ++k) store(out + k, static_cast<double>(sp[k]) * scale);
      }
    }
  }
}

template <typename In, typename Out, int Order, int C>
void warp_batch(const WarpImages& src, const WarpImages& out, const double* matrices, WarpFill mode,
                double fill, double scale) {
  const int64_t n = src.count, h = src.height, w = src.width, c = src.channels;
  const int64_t oh = out.height, ow = out.width;
  const auto* in = static_cast<const In*>(src.data);
  auto* dst = static_cast<Out*>(out.data);
  const int64_t rows = n * oh;
  Out lut[256];
  if constexpr (sizeof(In) == 1) {
    for (int v = 0; v < 256; ++v) store(lut + v, static_cast<double>(v) * scale);
  }
  const int threads = threads_for_elements(static_cast<double>(rows * ow * c) * 16);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t i = r / oh;
    const int64_t y = r % oh;
    const In* image = in + i * h * w * c;
    Out* row = dst + (i * oh + y) * ow * c;
    if constexpr (Order == 0) {
      if (mode == WarpFill::kNearest) {
        warp_row_nearest<In, Out, C, true>(image, h, w, c, row, ow, y, matrices + 6 * i, mode, fill, scale, lut);
      } else {
        warp_row_nearest<In, Out, C, false>(image, h, w, c, row, ow, y, matrices + 6 * i, mode, fill, scale, lut);
      }
    } else {
      warp_pixels<In, Out, 1, C>(image, h, w, c, row, ow, y, matrices + 6 * i, mode, fill, scale, lut);
    }
  }
}

template <typename In, typename Out, int Order>
void warp_channels(const WarpImages& src, const WarpImages& out, const double* m, WarpFill mode, double fill,
                   double scale) {
  switch (src.channels) {
    case 1:
      return warp_batch<In, Out, Order, 1>(src, out, m, mode, fill, scale);
    case 3:
      return warp_batch<In, Out, Order, 3>(src, out, m, mode, fill, scale);
    case 4:
      return warp_batch<In, Out, Order, 4>(src, out, m, mode, fill, scale);
    default:
      return warp_batch<In, Out, Order, 0>(src, out, m, mode, fill, scale);
  }
}

template <typename In, typename Out>
void warp_typed(const WarpImages& src, const WarpImages& out, const double* m, int order, WarpFill mode,
                double fill, double scale) {
  if (order == 0) {
    warp_channels<In, Out, 0>(src, out, m, mode, fill, scale);
  } else {
    warp_channels<In, Out, 1>(src, out, m, mode, fill, scale);
  }
}

}  // namespace

void warp_affine(const WarpImages& src, const WarpImages& out, const double* matrices, int order,
                 WarpFill mode, double cval, double scale) {
  const double fill = cval * scale;
  if (src.bytes) {
    if (out.bytes) {
      warp_typed<uint8_t, uint8_t>(src, out, matrices, order, mode, fill, scale);
    } else {
      warp_typed<uint8_t, float>(src, out, matrices, order, mode, fill, scale);
    }
  } else if (out.bytes) {
    warp_typed<float, uint8_t>(src, out, matrices, order, mode, fill, scale);
  } else {
    warp_typed<float, float>(src, out, matrices, order, mode, fill, scale);
  }
}

}  // namespace convlab
