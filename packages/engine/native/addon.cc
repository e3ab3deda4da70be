// Node-API entry points of convlab_native: argument validation, then the kernels.
//
// Contract (documented for TypeScript in src/native_addon.ts):
//  - every function is synchronous and runs on the calling (JS) thread; the work inside is
//    parallel on the OpenMP team (setNumThreads / CONVLAB_NUM_THREADS);
//  - Float32Array inputs are read in place, outputs are caller-allocated Float32Arrays
//    filled in place; activations NHWC, conv filters HWIO, matrices row-major;
//  - bad arguments never crash: each is checked here and reported as a one-line JS Error
//    "<op>: invalid <argument>. Expected ... Received: ...". oneDNN failures become
//    "<op>: oneDNN failed (...) for <shapes>.".
#include <malloc.h>
#include <cstdlib>
#include <napi.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <mutex>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "kernels.h"

namespace {

using convlab::ConvGeometry;
using convlab::MatMulGeometry;
using convlab::PoolGeometry;

/** Bumped when a function's signature or semantics change; native_addon.ts checks it. */
constexpr int kApiVersion = 4;

/** Largest value accepted for any size, stride, pad or dilation. */
constexpr int64_t kMaxDim = 2147483647;

std::mutex g_mutex;

/** A bad argument or failed kernel; the message is the complete one-line JS error text. */
struct Failure {
  std::string message;
};

[[noreturn]] void fail(std::string message) { throw Failure{std::move(message)}; }

std::string join(const std::vector<int64_t>& values) {
  std::string s = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(values[i]);
  }
  return s + "]";
}

std::string number_text(double count) {
  if (count < 9.007199254740992e15) return std::to_string(static_cast<int64_t>(count));
  std::ostringstream out;
  out << count;
  return out.str();
}

const char* typed_array_name(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
  }
  return "TypedArray";
}

/** A JS value as the "Received:" part of an error: short, readable, never throws. */
std::string describe(const Napi::Value& v, bool show_elements = true) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsNumber()) return v.ToString().Utf8Value();
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.size() > 40) s = s.substr(0, 37) + "...";
    return "\"" + s + "\"";
  }
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    const char* name = typed_array_name(t.TypedArrayType());
    return std::string(name[0] == 'I' ? "an " : "a ") + name + " of " +
           std::to_string(t.ElementLength()) + " elements";
  }
  if (v.IsArray()) {
    auto a = v.As<Napi::Array>();
    if (!show_elements) return "an Array of " + std::to_string(a.Length()) + " elements";
    std::string s = "[";
    const uint32_t shown = std::min<uint32_t>(a.Length(), 8);
    for (uint32_t i = 0; i < shown; ++i) {
      if (i) s += ",";
      Napi::Value e;
      try {
        e = a.Get(i);
      } catch (const Napi::Error&) {
        s += "?";  // a getter that throws
        continue;
      }
      if (e.IsArray()) {
        s += "[...]";
      } else if (e.IsObject()) {
        s += "{...}";
      } else {
        s += describe(e);
      }
    }
    if (a.Length() > shown) s += ",...";
    return s + "]";
  }
  if (v.IsFunction()) return "a function";
  if (v.IsArrayBuffer()) return "an ArrayBuffer";
  return "an object";
}

/** A Float32Array argument: where its elements live and how many there are. */
struct F32 {
  float* data = nullptr;
  size_t length = 0;
  const char* name = "";
};

/** Reads and checks the arguments of one call; every error names op and argument. */
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op) : info_(info), op_(op) {}

  /** At least `required` arguments; `signature` lists them for the message. */
  void expect_count(size_t required, const char* signature) const {
    if (info_.Length() < required) {
      fail(std::string(op_) + ": expected " + (std::string(signature).find('[') == std::string::npos
                                                   ? std::to_string(required)
                                                   : "at least " + std::to_string(required)) +
           (required == 1 ? " argument (" : " arguments (") + signature +
           "). Received: " + std::to_string(info_.Length()) + ".");
    }
  }

  [[noreturn]] void invalid(const char* name, const std::string& expected,
                            const std::string& received) const {
    fail(std::string(op_) + ": invalid " + name + ". Expected " + expected +
         ". Received: " + received + ".");
  }

  F32 f32(size_t i, const char* name) const {
    Napi::Value v = info_[i];
    if (!is_f32(v)) invalid(name, "a Float32Array", describe(v, false));
    return view(v, name);
  }

  /** A Float32Array, or null/undefined (returned with data == nullptr). */
  F32 f32_or_null(size_t i, const char* name) const {
    Napi::Value v = info_[i];
    if (v.IsUndefined() || v.IsNull()) return F32{nullptr, 0, name};
    if (!is_f32(v)) invalid(name, "a Float32Array or null", describe(v, false));
    return view(v, name);
  }

  /** `count` integers, each >= `min` (0 or 1), given as an Array or a typed array. */
  std::vector<int64_t> ints(size_t i, const char* name, size_t count, int64_t min,
                            const char* meaning) const {
    Napi::Value v = info_[i];
    std::vector<int64_t> out;
    bool ok = false;
    uint32_t length = 0;
    if (v.IsArray()) length = v.As<Napi::Array>().Length();
    if (v.IsTypedArray()) length = static_cast<uint32_t>(v.As<Napi::TypedArray>().ElementLength());
    if ((v.IsArray() || (v.IsTypedArray() && !is_bigint_array(v))) && length == count) {
      ok = true;
      Napi::Object o = v.As<Napi::Object>();
      for (uint32_t j = 0; j < count && ok; ++j) {
        Napi::Value e;
        try {
          e = o.Get(j);
        } catch (const Napi::Error& error) {
          invalid(name,
                  std::to_string(count) + (min > 0 ? " positive integers " : " non-negative integers ") + meaning,
                  "an Array whose element " + std::to_string(j) + " throws (" + error.Message() + ")");
        }
        if (!e.IsNumber()) {
          ok = false;
          break;
        }
        double d = e.As<Napi::Number>().DoubleValue();
        if (!(d >= static_cast<double>(min)) || d > static_cast<double>(kMaxDim) || d != std::floor(d)) {
          ok = false;
          break;
        }
        out.push_back(static_cast<int64_t>(d));
      }
    }
    if (!ok) {
      invalid(name,
              std::to_string(count) + (min > 0 ? " positive integers " : " non-negative integers ") +
                  meaning,
              describe(v));
    }
    return out;
  }

  int64_t positive_int(size_t i, const char* name) const {
    Napi::Value v = info_[i];
    if (v.IsNumber()) {
      double d = v.As<Napi::Number>().DoubleValue();
      if (d >= 1 && d <= static_cast<double>(kMaxDim) && d == std::floor(d)) return static_cast<int64_t>(d);
    }
    invalid(name, "a positive integer", describe(v));
  }

  bool boolean(size_t i, const char* name) const {
    Napi::Value v = info_[i];
    if (!v.IsBoolean()) invalid(name, "a boolean", describe(v));
    return v.As<Napi::Boolean>().Value();
  }

  /** `count` finite numbers given as an Array. */
  std::vector<double> numbers(size_t i, const char* name, size_t count) const {
    Napi::Value v = info_[i];
    std::vector<double> out;
    if (v.IsArray() && v.As<Napi::Array>().Length() == count) {
      Napi::Array a = v.As<Napi::Array>();
      for (uint32_t j = 0; j < count; ++j) {
        Napi::Value e = a.Get(j);
        if (!e.IsNumber() || !std::isfinite(e.As<Napi::Number>().DoubleValue())) break;
        out.push_back(e.As<Napi::Number>().DoubleValue());
      }
    }
    if (out.size() != count) invalid(name, "an Array of " + std::to_string(count) + " finite numbers", describe(v));
    return out;
  }

  /** A boolean, or undefined for `fallback`. */
  bool optional_boolean(size_t i, const char* name, bool fallback) const {
    if (i >= info_.Length() || info_[i].IsUndefined()) return fallback;
    return boolean(i, name);
  }

  /** 0 (linear) or 1 (relu); undefined or null means 0. */
  int activation(size_t i) const {
    Napi::Value v = info_[i];
    if (v.IsUndefined() || v.IsNull()) return 0;
    if (v.IsNumber()) {
      double d = v.As<Napi::Number>().DoubleValue();
      if (d == 0 || d == 1) return static_cast<int>(d);
    }
    invalid("activation", "0 (linear) or 1 (relu)", describe(v));
  }

  /** `a` holds exactly the elements of `shape` (named `shape_text` in the message). */
  void expect_length(const F32& a, double elements, const std::string& shape_text) const {
    if (static_cast<double>(a.length) != elements) {
      invalid(a.name, number_text(elements) + " elements (" + shape_text + ")",
              std::to_string(a.length) + " elements");
    }
  }

  /** Outputs must not share memory with inputs: the kernels read inputs while writing. */
  void expect_disjoint(const F32& out, const F32& in) const {
    if (out.data == nullptr || in.data == nullptr) return;
    const float* out_end = out.data + out.length;
    const float* in_end = in.data + in.length;
    if (out.data < in_end && in.data < out_end) {
      invalid(out.name, std::string("memory separate from ") + in.name,
              std::string("an array overlapping ") + in.name);
    }
  }

  const char* op() const { return op_; }

 private:
  static bool is_f32(const Napi::Value& v) {
    return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
  }
  static bool is_bigint_array(const Napi::Value& v) {
    auto t = v.As<Napi::TypedArray>().TypedArrayType();
    return t == napi_bigint64_array || t == napi_biguint64_array;
  }
  static F32 view(const Napi::Value& v, const char* name) {
    auto a = v.As<Napi::Float32Array>();
    return F32{a.Data(), a.ElementLength(), name};
  }

  const Napi::CallbackInfo& info_;
  const char* op_;
};

double product(const std::vector<int64_t>& shape) {
  double p = 1;
  for (int64_t d : shape) p *= static_cast<double>(d);
  return p;
}

/** Output size along one axis, or <= 0 when the (dilated) window does not fit. */
int64_t out_size(int64_t in, int64_t pad_before, int64_t pad_after, int64_t k, int64_t stride,
                 int64_t dilation) {
  const int64_t span = (k - 1) * dilation + 1;
  const int64_t padded = in + pad_before + pad_after;
  if (span > padded) return 0;
  return (padded - span) / stride + 1;
}

/** Runs a kernel; oneDNN and allocation failures become one-line errors with the shapes. */
template <class Kernel>
void run(const char* op, const std::function<std::string()>& context, Kernel&& kernel) {
  try {
    kernel();
  } catch (const dnnl::error& e) {
    fail(std::string(op) + ": oneDNN failed (" + e.what() + ", status " +
         std::to_string(static_cast<int>(e.status)) + ") for " + context() + ".");
  } catch (const convlab::KernelError& e) {
    fail(std::string(op) + ": " + e.what() + " for " + context() + ".");
  } catch (const std::bad_alloc&) {
    fail(std::string(op) + ": out of memory for " + context() + ".");
  }
}

/** Wraps an entry point: one call at a time, every C++ exception turned into a JS Error. */
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value entry(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string message;
  try {
    std::lock_guard<std::mutex> lock(g_mutex);
    return F(info);
  } catch (const Failure& f) {
    message = f.message;
  } catch (const Napi::Error& e) {
    message = e.Message();
  } catch (const std::exception& e) {
    message = std::string("convlab native: unexpected error: ") + e.what();
  } catch (...) {
    message = "convlab native: unexpected error";
  }
  Napi::Error::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

// ---------------------------------------------------------------- convolution

const char* kShape4 = "[batch, height, width, channels]";
const char* kFilter4 = "[kh, kw, in, out]";

/** A float32 array and its NHWC shape, given as arguments i and i + 1, whose lengths agree. */
struct Tensor4 {
  F32 values;
  std::vector<int64_t> shape;
};

Tensor4 tensor4(const Args& args, size_t i, const char* name, const char* shape_name) {
  Tensor4 t{args.f32(i, name), args.ints(i + 1, shape_name, 4, 1, kShape4)};
  args.expect_length(t.values, product(t.shape), std::string(shape_name) + " " + join(t.shape));
  return t;
}

struct ConvArgs {
  std::vector<int64_t> strides, pads, dilations;
};

ConvArgs conv_params(const Args& args, size_t first) {
  ConvArgs p;
  p.strides = args.ints(first, "strides", 2, 1, "[strideHeight, strideWidth]");
  p.pads = args.ints(first + 1, "pads", 4, 0, "[top, left, bottom, right]");
  p.dilations = args.ints(first + 2, "dilations", 2, 1, "[dilationHeight, dilationWidth]");
  return p;
}

/** The filter's channel count must match the input's. */
void expect_filter_channels(const Args& args, const char* name, const std::vector<int64_t>& wshape,
                            int64_t channels, const char* whose) {
  if (wshape[2] != channels) {
    args.invalid(name,
                 "[kh, kw, " + std::to_string(channels) + ", out] to match " + whose + " " +
                     std::to_string(channels) + " channels",
                 join(wshape));
  }
}

/** Builds the geometry and checks that the dilated filter fits the padded input. */
ConvGeometry conv_geometry(const Args& args, const char* filter_name,
                           const std::vector<int64_t>& in, const char* in_name,
                           const std::vector<int64_t>& w, const ConvArgs& p, bool depthwise) {
  ConvGeometry g{};
  g.n = in[0], g.h = in[1], g.w = in[2], g.c = in[3];
  g.kh = w[0], g.kw = w[1];
  // Depthwise: filter [kh, kw, c, multiplier], one group per input channel.
  g.co = depthwise ? w[2] * w[3] : w[3];
  g.groups = depthwise ? g.c : 1;
  g.sh = p.strides[0], g.sw = p.strides[1];
  g.pt = p.pads[0], g.pl = p.pads[1], g.pb = p.pads[2], g.pr = p.pads[3];
  g.dh = p.dilations[0], g.dw = p.dilations[1];
  g.oh = out_size(g.h, g.pt, g.pb, g.kh, g.sh, g.dh);
  g.ow = out_size(g.w, g.pl, g.pr, g.kw, g.sw, g.dw);
  if (g.oh <= 0 || g.ow <= 0) {
    const int64_t span_h = (g.kh - 1) * g.dh + 1, span_w = (g.kw - 1) * g.dw + 1;
    args.invalid(filter_name,
                 "a filter that fits the padded input (" + std::to_string(g.h + g.pt + g.pb) + "x" +
                     std::to_string(g.w + g.pl + g.pr) + " from " + in_name + " " + join(in) +
                     " and pads " + join(p.pads) + "; dilations " + join(p.dilations) +
                     " make it " + std::to_string(span_h) + "x" + std::to_string(span_w) + ")",
                 join(w));
  }
  return g;
}

std::string conv_context(const char* in_name, const std::vector<int64_t>& in, const char* w_name,
                         const std::vector<int64_t>& w, const ConvArgs& p) {
  return std::string(in_name) + " " + join(in) + ", " + w_name + " " + join(w) + ", strides " +
         join(p.strides) + ", pads " + join(p.pads) + ", dilations " + join(p.dilations);
}

void expect_shape(const Args& args, const char* name, const std::vector<int64_t>& got,
                  const std::vector<int64_t>& expected, const std::string& from) {
  if (got != expected) args.invalid(name, join(expected) + " (from " + from + ")", join(got));
}

Napi::Value Conv2D(const Napi::CallbackInfo& info) {
  Args args(info, "conv2d");
  args.expect_count(9, "x, xShape, w, wShape, out, outShape, strides, pads, dilations[, bias, activation, depthwise]");
  auto [x, xs] = tensor4(args, 0, "x", "xShape");
  F32 w = args.f32(2, "w");
  auto ws = args.ints(3, "wShape", 4, 1, kFilter4);
  expect_filter_channels(args, "wShape", ws, xs[3], "the input's");
  args.expect_length(w, product(ws), "wShape " + join(ws));
  F32 out = args.f32(4, "out");
  auto os = args.ints(5, "outShape", 4, 1, kShape4);
  ConvArgs p = conv_params(args, 6);
  const bool depthwise = args.optional_boolean(11, "depthwise", false);
  ConvGeometry g = conv_geometry(args, "wShape", xs, "xShape", ws, p, depthwise);
  auto context = [&] { return conv_context("xShape", xs, "wShape", ws, p); };
  expect_shape(args, "outShape", os, {g.n, g.oh, g.ow, g.co}, context());
  args.expect_length(out, product(os), "outShape " + join(os));
  F32 bias = args.f32_or_null(9, "bias");
  if (bias.data != nullptr && static_cast<int64_t>(bias.length) != g.co) {
    args.invalid("bias", "null or " + std::to_string(g.co) + " elements (one per output channel)",
                 std::to_string(bias.length) + " elements");
  }
  int activation = args.activation(10);
  args.expect_disjoint(out, x);
  args.expect_disjoint(out, w);
  args.expect_disjoint(out, bias);
  run(args.op(), context, [&] { convlab::conv2d_forward(g, x.data, w.data, bias.data, activation, out.data); });
  return info.Env().Undefined();
}

Napi::Value Conv2DBackwardData(const Napi::CallbackInfo& info) {
  Args args(info, "conv2dBackwardData");
  args.expect_count(9, "dy, dyShape, w, wShape, dx, dxShape, strides, pads, dilations[, depthwise]");
  auto [dy, dys] = tensor4(args, 0, "dy", "dyShape");
  F32 w = args.f32(2, "w");
  auto ws = args.ints(3, "wShape", 4, 1, kFilter4);
  args.expect_length(w, product(ws), "wShape " + join(ws));
  auto [dx, dxs] = tensor4(args, 4, "dx", "dxShape");
  expect_filter_channels(args, "wShape", ws, dxs[3], "dx's");
  ConvArgs p = conv_params(args, 6);
  ConvGeometry g = conv_geometry(args, "wShape", dxs, "dxShape", ws, p, args.optional_boolean(9, "depthwise", false));
  auto context = [&] { return conv_context("dxShape", dxs, "wShape", ws, p); };
  expect_shape(args, "dyShape", dys, {g.n, g.oh, g.ow, g.co}, context());
  args.expect_disjoint(dx, dy);
  args.expect_disjoint(dx, w);
  run(args.op(), context, [&] { convlab::conv2d_backward_data(g, dy.data, w.data, dx.data); });
  return info.Env().Undefined();
}

Napi::Value Conv2DBackwardWeights(const Napi::CallbackInfo& info) {
  Args args(info, "conv2dBackwardWeights");
  args.expect_count(9, "x, xShape, dy, dyShape, dw, dwShape, strides, pads, dilations[, depthwise]");
  auto [x, xs] = tensor4(args, 0, "x", "xShape");
  auto [dy, dys] = tensor4(args, 2, "dy", "dyShape");
  F32 dw = args.f32(4, "dw");
  auto dws = args.ints(5, "dwShape", 4, 1, kFilter4);
  expect_filter_channels(args, "dwShape", dws, xs[3], "the input's");
  args.expect_length(dw, product(dws), "dwShape " + join(dws));
  ConvArgs p = conv_params(args, 6);
  ConvGeometry g = conv_geometry(args, "dwShape", xs, "xShape", dws, p, args.optional_boolean(9, "depthwise", false));
  auto context = [&] { return conv_context("xShape", xs, "dwShape", dws, p); };
  expect_shape(args, "dyShape", dys, {g.n, g.oh, g.ow, g.co}, context());
  args.expect_disjoint(dw, x);
  args.expect_disjoint(dw, dy);
  run(args.op(), context, [&] { convlab::conv2d_backward_weights(g, x.data, dy.data, dw.data); });
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- matmul

Napi::Value MatMul(const Napi::CallbackInfo& info) {
  Args args(info, "matmul");
  args.expect_count(10, "a, b, out, batchA, batchB, m, n, k, transposeA, transposeB[, bias, activation]");
  MatMulGeometry g{};
  g.batchA = args.positive_int(3, "batchA");
  g.batchB = args.positive_int(4, "batchB");
  g.m = args.positive_int(5, "m");
  g.n = args.positive_int(6, "n");
  g.k = args.positive_int(7, "k");
  g.transposeA = args.boolean(8, "transposeA");
  g.transposeB = args.boolean(9, "transposeB");
  if (g.batchA != g.batchB && g.batchA != 1 && g.batchB != 1) {
    args.invalid("batchB", "batchA and batchB to be equal or one of them 1",
                 "batchA=" + std::to_string(g.batchA) + ", batchB=" + std::to_string(g.batchB));
  }
  const int64_t batch = std::max(g.batchA, g.batchB);
  F32 a = args.f32(0, "a");
  args.expect_length(a, static_cast<double>(g.batchA) * g.m * g.k,
                     g.transposeA ? "[batchA, k, m] = " + join({g.batchA, g.k, g.m})
                                  : "[batchA, m, k] = " + join({g.batchA, g.m, g.k}));
  F32 b = args.f32(1, "b");
  args.expect_length(b, static_cast<double>(g.batchB) * g.k * g.n,
                     g.transposeB ? "[batchB, n, k] = " + join({g.batchB, g.n, g.k})
                                  : "[batchB, k, n] = " + join({g.batchB, g.k, g.n}));
  F32 out = args.f32(2, "out");
  args.expect_length(out, static_cast<double>(batch) * g.m * g.n,
                     "[max(batchA, batchB), m, n] = " + join({batch, g.m, g.n}));
  F32 bias = args.f32_or_null(10, "bias");
  if (bias.data != nullptr && static_cast<int64_t>(bias.length) != g.n) {
    args.invalid("bias", "null or n = " + std::to_string(g.n) + " elements",
                 std::to_string(bias.length) + " elements");
  }
  int activation = args.activation(11);
  args.expect_disjoint(out, a);
  args.expect_disjoint(out, b);
  args.expect_disjoint(out, bias);
  auto context = [&] {
    return "batchA " + std::to_string(g.batchA) + ", batchB " + std::to_string(g.batchB) + ", m " +
           std::to_string(g.m) + ", n " + std::to_string(g.n) + ", k " + std::to_string(g.k) +
           ", transposeA " + (g.transposeA ? "true" : "false") + ", transposeB " +
           (g.transposeB ? "true" : "false");
  };
  run(args.op(), context, [&] { convlab::matmul(g, a.data, b.data, bias.data, activation, out.data); });
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- pooling

struct PoolArgs {
  std::vector<int64_t> window, strides, pads;
};

PoolArgs pool_params(const Args& args, size_t first) {
  PoolArgs p;
  p.window = args.ints(first, "window", 2, 1, "[windowHeight, windowWidth]");
  p.strides = args.ints(first + 1, "strides", 2, 1, "[strideHeight, strideWidth]");
  p.pads = args.ints(first + 2, "pads", 4, 0, "[top, left, bottom, right]");
  return p;
}

PoolGeometry pool_geometry(const Args& args, const std::vector<int64_t>& in, const char* in_name,
                           const PoolArgs& p) {
  PoolGeometry g{};
  g.n = in[0], g.h = in[1], g.w = in[2], g.c = in[3];
  g.kh = p.window[0], g.kw = p.window[1];
  g.sh = p.strides[0], g.sw = p.strides[1];
  g.pt = p.pads[0], g.pl = p.pads[1], g.pb = p.pads[2], g.pr = p.pads[3];
  g.oh = out_size(g.h, g.pt, g.pb, g.kh, g.sh, 1);
  g.ow = out_size(g.w, g.pl, g.pr, g.kw, g.sw, 1);
  if (g.oh <= 0 || g.ow <= 0) {
    args.invalid("window",
                 "a window that fits the padded input (" + std::to_string(g.h + g.pt + g.pb) + "x" +
                     std::to_string(g.w + g.pl + g.pr) + " from " + in_name + " " + join(in) +
                     " and pads " + join(p.pads) + ")",
                 join(p.window));
  }
  return g;
}

std::string pool_context(const char* in_name, const std::vector<int64_t>& in, const PoolArgs& p) {
  return std::string(in_name) + " " + join(in) + ", window " + join(p.window) + ", strides " +
         join(p.strides) + ", pads " + join(p.pads);
}

/** maxPool and avgPool share their arguments. */
template <void (*Kernel)(const PoolGeometry&, const float*, float*)>
Napi::Value PoolForward(const Napi::CallbackInfo& info, const char* op) {
  Args args(info, op);
  args.expect_count(7, "x, xShape, out, outShape, window, strides, pads");
  auto [x, xs] = tensor4(args, 0, "x", "xShape");
  F32 out = args.f32(2, "out");
  auto os = args.ints(3, "outShape", 4, 1, kShape4);
  PoolArgs p = pool_params(args, 4);
  PoolGeometry g = pool_geometry(args, xs, "xShape", p);
  auto context = [&] { return pool_context("xShape", xs, p); };
  expect_shape(args, "outShape", os, {g.n, g.oh, g.ow, g.c}, context());
  args.expect_length(out, product(os), "outShape " + join(os));
  args.expect_disjoint(out, x);
  run(op, context, [&] { Kernel(g, x.data, out.data); });
  return info.Env().Undefined();
}

Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  return PoolForward<convlab::max_pool>(info, "maxPool");
}

Napi::Value AvgPool(const Napi::CallbackInfo& info) {
  return PoolForward<convlab::avg_pool>(info, "avgPool");
}

Napi::Value MaxPoolBackward(const Napi::CallbackInfo& info) {
  Args args(info, "maxPoolBackward");
  args.expect_count(8, "dy, dyShape, x, xShape, dx, window, strides, pads");
  auto [dy, dys] = tensor4(args, 0, "dy", "dyShape");
  auto [x, xs] = tensor4(args, 2, "x", "xShape");
  F32 dx = args.f32(4, "dx");
  args.expect_length(dx, product(xs), "xShape " + join(xs));
  PoolArgs p = pool_params(args, 5);
  PoolGeometry g = pool_geometry(args, xs, "xShape", p);
  auto context = [&] { return pool_context("xShape", xs, p); };
  expect_shape(args, "dyShape", dys, {g.n, g.oh, g.ow, g.c}, context());
  args.expect_disjoint(dx, dy);
  args.expect_disjoint(dx, x);
  run(args.op(), context, [&] { convlab::max_pool_backward(g, dy.data, x.data, dx.data); });
  return info.Env().Undefined();
}

Napi::Value AvgPoolBackward(const Napi::CallbackInfo& info) {
  Args args(info, "avgPoolBackward");
  args.expect_count(7, "dy, dyShape, dx, dxShape, window, strides, pads[, divideByValidCount]");
  auto [dy, dys] = tensor4(args, 0, "dy", "dyShape");
  auto [dx, dxs] = tensor4(args, 2, "dx", "dxShape");
  PoolArgs p = pool_params(args, 4);
  bool by_valid = args.optional_boolean(7, "divideByValidCount", false);
  PoolGeometry g = pool_geometry(args, dxs, "dxShape", p);
  auto context = [&] { return pool_context("dxShape", dxs, p); };
  expect_shape(args, "dyShape", dys, {g.n, g.oh, g.ow, g.c}, context());
  args.expect_disjoint(dx, dy);
  run(args.op(), context, [&] { convlab::avg_pool_backward(g, dy.data, by_valid, dx.data); });
  return info.Env().Undefined();
}

// ---------------------------------------------------------------- runtime

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  std::string isa;
  run("info", [] { return std::string("the CPU"); }, [&] { isa = convlab::onednn_isa(); });
  o.Set("onednn", convlab::onednn_version());
  o.Set("threads", convlab::num_threads());
  o.Set("isa", isa);
  o.Set("matmul", convlab::matmul_backend());
  o.Set("apiVersion", kApiVersion);
  return o;
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Args args(info, "setNumThreads");
  args.expect_count(1, "n");
  Napi::Value v = info[0];
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0;
  if (!(d >= 1 && d <= 1024 && d == std::floor(d))) {
    args.invalid("n", "an integer in [1, 1024]", describe(v));
  }
  convlab::set_num_threads(static_cast<int>(d));
  return info.Env().Undefined();
}

/** A small non-negative integer code (an op of an enum). */
int code_arg(const Args& args, const Napi::CallbackInfo& info, size_t i, const char* name, int max) {
  Napi::Value v = info[i];
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d >= 0 && d <= max && d == std::floor(d)) return static_cast<int>(d);
  }
  args.invalid(name, "an integer in [0, " + std::to_string(max) + "]", describe(v));
}

// binary(op, big, small, out, swapped, inner): big is [outer, middle, inner], small is
// [outer, inner]; out[(a * middle + m) * inner + j] = op(big[...], small[a * inner + j]).
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Args args(info, "binary");
  args.expect_count(6, "op, big, small, out, swapped, inner");
  int op = code_arg(args, info, 0, "op", 3);
  F32 big = args.f32(1, "big");
  F32 small = args.f32(2, "small");
  F32 out = args.f32(3, "out");
  bool swapped = args.boolean(4, "swapped");
  if (small.length == 0 || big.length % small.length != 0) {
    args.invalid("small", "a length that divides big's " + std::to_string(big.length), std::to_string(small.length) + " elements");
  }
  double inner = info[5].IsNumber() ? info[5].As<Napi::Number>().DoubleValue() : -1;
  if (!(inner >= 1 && inner == std::floor(inner) && small.length % static_cast<size_t>(inner) == 0)) {
    args.invalid("inner", "a positive integer that divides small's " + std::to_string(small.length), describe(info[5]));
  }
  if (out.length != big.length) {
    args.invalid("out", std::to_string(big.length) + " elements (big's length)", std::to_string(out.length) + " elements");
  }
  args.expect_disjoint(out, big);
  args.expect_disjoint(out, small);
  convlab::binary(static_cast<convlab::BinaryOp>(op), big.data, small.data, out.data,
                  static_cast<int64_t>(big.length), static_cast<int64_t>(small.length),
                  static_cast<int64_t>(inner), swapped);
  return info.Env().Undefined();
}

// unary(op, x, out, alpha): relu (0), step (1), sqrt (2), square (3).
Napi::Value Unary(const Napi::CallbackInfo& info) {
  Args args(info, "unary");
  args.expect_count(4, "op, x, out, alpha");
  int op = code_arg(args, info, 0, "op", 3);
  F32 x = args.f32(1, "x");
  F32 out = args.f32(2, "out");
  if (!info[3].IsNumber()) args.invalid("alpha", "a number", describe(info[3]));
  float alpha = static_cast<float>(info[3].As<Napi::Number>().DoubleValue());
  if (out.length != x.length) {
    args.invalid("out", std::to_string(x.length) + " elements (x's length)", std::to_string(out.length) + " elements");
  }
  args.expect_disjoint(out, x);
  convlab::unary(static_cast<convlab::UnaryOp>(op), x.data, out.data, static_cast<int64_t>(x.length), alpha);
  return info.Env().Undefined();
}

// sumColumns(x, out, outer): x is [outer, rows, cols] with outer * cols = out.length;
// out[a * cols + j] = sum over r of x[(a * rows + r) * cols + j].
Napi::Value SumColumns(const Napi::CallbackInfo& info) {
  Args args(info, "sumColumns");
  args.expect_count(3, "x, out, outer");
  F32 x = args.f32(0, "x");
  F32 out = args.f32(1, "out");
  if (out.length == 0 || x.length % out.length != 0) {
    args.invalid("out", "a length that divides x's " + std::to_string(x.length), std::to_string(out.length) + " elements");
  }
  double outer = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : -1;
  if (!(outer >= 1 && outer == std::floor(outer) && out.length % static_cast<size_t>(outer) == 0)) {
    args.invalid("outer", "a positive integer that divides out's " + std::to_string(out.length), describe(info[2]));
  }
  args.expect_disjoint(out, x);
  const int64_t o = static_cast<int64_t>(outer);
  convlab::sum_columns(x.data, out.data, o, static_cast<int64_t>(x.length / out.length),
                       static_cast<int64_t>(out.length) / o);
  return info.Env().Undefined();
}

// rmsprop(value, ms, mom, g, valueOut, msOut, momOut, [lr, rho, momentum, epsilon], epsilonInside).
Napi::Value RmsProp(const Napi::CallbackInfo& info) {
  Args args(info, "rmsprop");
  args.expect_count(9, "value, ms, mom, g, valueOut, msOut, momOut, hyper, epsilonInside");
  const char* names[] = {"value", "ms", "mom", "g", "valueOut", "msOut", "momOut"};
  F32 a[7];
  for (int i = 0; i < 7; ++i) {
    a[i] = args.f32(i, names[i]);
    if (a[i].length != a[0].length) {
      args.invalid(names[i], std::to_string(a[0].length) + " elements (value's length)", std::to_string(a[i].length) + " elements");
    }
  }
  for (int o = 4; o < 7; ++o) {
    for (int i = 0; i < 4; ++i) args.expect_disjoint(a[o], a[i]);
  }
  std::vector<double> hyper = args.numbers(7, "hyper", 4);
  bool inside = args.boolean(8, "epsilonInside");
  convlab::rmsprop(a[0].data, a[1].data, a[2].data, a[3].data, a[4].data, a[5].data, a[6].data,
                   static_cast<int64_t>(a[0].length), static_cast<float>(hyper[0]), static_cast<float>(hyper[1]),
                   static_cast<float>(hyper[2]), static_cast<float>(hyper[3]), inside);
  return info.Env().Undefined();
}

// Tensors are large, short-lived buffers. glibc's defaults give every buffer over its mmap
// threshold fresh pages from the OS and unmap them on free, so each new tensor page-faults
// (the lesson-1 training step measured 2.3x slower). Keep freed memory in the heap instead,
// as tuned PyTorch runs do with MALLOC_* variables, unless the user set those.
void tune_malloc() {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_")) return;
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
}

/** A batch of images: a Uint8Array or Uint8ClampedArray (bytes) or a Float32Array. */
convlab::WarpImages warp_images(const Args& args, const Napi::CallbackInfo& info, size_t i, const char* name,
                                int64_t count, int64_t height, int64_t width, int64_t channels) {
  Napi::Value v = info[i];
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    const auto type = t.TypedArrayType();
    if (type == napi_uint8_array || type == napi_uint8_clamped_array || type == napi_float32_array) {
      const bool bytes = type != napi_float32_array;
      const double expected = static_cast<double>(count) * height * width * channels;
      if (static_cast<double>(t.ElementLength()) != expected) {
        args.invalid(name, number_text(expected) + " elements (" + std::to_string(count) + "x" + std::to_string(height) + "x" +
                               std::to_string(width) + "x" + std::to_string(channels) + ")",
                     std::to_string(t.ElementLength()) + " elements");
      }
      auto* base = static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
      return convlab::WarpImages{base, bytes, count, height, width, channels};
    }
  }
  args.invalid(name, "a Uint8Array or Float32Array", describe(v));
}

// warpAffine(src, srcShape [n, h, w, c], out, outSize [oh, ow], matrices (6n numbers), order,
// fillMode, cval, scale)
Napi::Value WarpAffine(const Napi::CallbackInfo& info) {
  Args args(info, "warpAffine");
  args.expect_count(9, "src, srcShape, out, outSize, matrices, order, fillMode, cval, scale");
  std::vector<int64_t> shape = args.ints(1, "srcShape", 4, 1, "[count, height, width, channels]");
  std::vector<int64_t> size = args.ints(3, "outSize", 2, 1, "[height, width]");
  convlab::WarpImages src = warp_images(args, info, 0, "src", shape[0], shape[1], shape[2], shape[3]);
  convlab::WarpImages out = warp_images(args, info, 2, "out", shape[0], size[0], size[1], shape[3]);
  const auto src_bytes = static_cast<size_t>(shape[0] * shape[1] * shape[2] * shape[3]) * (src.bytes ? 1 : 4);
  const auto out_bytes = static_cast<size_t>(shape[0] * size[0] * size[1] * shape[3]) * (out.bytes ? 1 : 4);
  const auto* s0 = static_cast<const uint8_t*>(src.data);
  const auto* o0 = static_cast<const uint8_t*>(out.data);
  if (o0 < s0 + src_bytes && s0 < o0 + out_bytes) args.invalid("out", "memory separate from src", "an array overlapping src");
  Napi::Value mv = info[4];
  if (!mv.IsTypedArray() || mv.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      static_cast<int64_t>(mv.As<Napi::TypedArray>().ElementLength()) != 6 * shape[0]) {
    args.invalid("matrices", "a Float64Array of " + std::to_string(6 * shape[0]) + " numbers (6 per image)", describe(mv));
  }
  const double* matrices = mv.As<Napi::Float64Array>().Data();
  for (int64_t k = 0; k < 6 * shape[0]; ++k) {
    if (!std::isfinite(matrices[k])) args.invalid("matrices", "finite numbers", "a non-finite value at " + std::to_string(k));
  }
  int order = code_arg(args, info, 5, "order", 1);
  int mode = code_arg(args, info, 6, "fillMode", 4);
  auto finite = [&](size_t i, const char* name) {
    if (!info[i].IsNumber() || !std::isfinite(info[i].As<Napi::Number>().DoubleValue())) args.invalid(name, "a finite number", describe(info[i]));
    return info[i].As<Napi::Number>().DoubleValue();
  };
  const double cval = finite(7, "cval");
  const double scale = finite(8, "scale");
  convlab::warp_affine(src, out, matrices, order, static_cast<convlab::WarpFill>(mode), cval, scale);
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tune_malloc();
  try {
    convlab::init_runtime();
    convlab::init_matmul();
  } catch (const std::exception& e) {
    Napi::Error::New(env, std::string("convlab native: initialisation failed: ") + e.what())
        .ThrowAsJavaScriptException();
    return exports;
  }
  exports.Set("info", Napi::Function::New(env, entry<Info>, "info"));
  exports.Set("setNumThreads", Napi::Function::New(env, entry<SetNumThreads>, "setNumThreads"));
  exports.Set("conv2d", Napi::Function::New(env, entry<Conv2D>, "conv2d"));
  exports.Set("conv2dBackwardData",
              Napi::Function::New(env, entry<Conv2DBackwardData>, "conv2dBackwardData"));
  exports.Set("conv2dBackwardWeights",
              Napi::Function::New(env, entry<Conv2DBackwardWeights>, "conv2dBackwardWeights"));
  exports.Set("matmul", Napi::Function::New(env, entry<MatMul>, "matmul"));
  exports.Set("maxPool", Napi::Function::New(env, entry<MaxPool>, "maxPool"));
  exports.Set("maxPoolBackward", Napi::Function::New(env, entry<MaxPoolBackward>, "maxPoolBackward"));
  exports.Set("avgPool", Napi::Function::New(env, entry<AvgPool>, "avgPool"));
  exports.Set("avgPoolBackward", Napi::Function::New(env, entry<AvgPoolBackward>, "avgPoolBackward"));
  exports.Set("binary", Napi::Function::New(env, entry<Binary>, "binary"));
  exports.Set("unary", Napi::Function::New(env, entry<Unary>, "unary"));
  exports.Set("sumColumns", Napi::Function::New(env, entry<SumColumns>, "sumColumns"));
  exports.Set("rmsprop", Napi::Function::New(env, entry<RmsProp>, "rmsprop"));
  exports.Set("warpAffine", Napi::Function::New(env, entry<WarpAffine>, "warpAffine"));
  return exports;
}

}  // namespace

NODE_API_MODULE(convlab_native, Init)
