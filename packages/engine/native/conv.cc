// 2-D convolution forward / backward-data / backward-weights with oneDNN.
//
// Activations stay NHWC and are read and written in place (oneDNN's brgconv kernels work
// on NHWC directly). Filters arrive as TensorFlow.js's HWIO; each primitive is created with
// `format_tag::any` for (diff_)weights so oneDNN picks its blocked layout, and a cached
// reorder converts HWIO to that layout (or back) on every call, because weights change at
// every training step. The reorder targets a buffer owned by the cache entry. A depthwise
// convolution is the grouped case (groups = input channels): TensorFlow's [kh, kw, c,
// multiplier] filter is oneDNN's grouped `hwigo` with one input channel per group.
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "kernels.h"
#include "runtime.h"

namespace convlab {

namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

enum ConvKind : int64_t { kForward = 1, kBackwardData = 2, kBackwardWeights = 3 };

struct ConvPrimitive {
  dnnl::primitive prim;
  memory act_in;       // x (forward, backward weights) or dy (backward data), NHWC
  memory act_out;      // y (forward) or dx (backward data), NHWC; dy for backward weights
  memory bias;         // forward only, may be empty
  memory user_weights; // HWIO, caller's buffer
  memory weights;      // layout the primitive wants (== user_weights when no reorder)
  bool reorder_weights = false;
  dnnl::reorder reorder;
  memory scratch;
  memory::desc scratch_desc;
};

LruCache<ConvPrimitive>& cache() {
  static LruCache<ConvPrimitive> c(96);
  return c;
}

struct Descs {
  memory::desc src, dst, weights_any, weights_user, bias;
  memory::dims strides, dilates, pad_l, pad_r;
};

Descs make_descs(const ConvGeometry& g) {
  Descs d;
  d.src = memory::desc({g.n, g.c, g.h, g.w}, dt::f32, tag::nhwc);
  d.dst = memory::desc({g.n, g.co, g.oh, g.ow}, dt::f32, tag::nhwc);
  if (g.groups > 1) {
    const memory::dims dims{g.groups, g.co / g.groups, g.c / g.groups, g.kh, g.kw};
    d.weights_any = memory::desc(dims, dt::f32, tag::any);
    d.weights_user = memory::desc(dims, dt::f32, tag::hwigo);
  } else {
    d.weights_any = memory::desc({g.co, g.c, g.kh, g.kw}, dt::f32, tag::any);
    d.weights_user = memory::desc({g.co, g.c, g.kh, g.kw}, dt::f32, tag::hwio);
  }
  d.bias = memory::desc({g.co}, dt::f32, tag::x);
  d.strides = {g.sh, g.sw};
  d.dilates = {g.dh - 1, g.dw - 1};  // oneDNN counts the gaps, not the rate
  d.pad_l = {g.pt, g.pl};
  d.pad_r = {g.pb, g.pr};
  return d;
}

double flops_of(const ConvGeometry& g) {
  return 2.0 * g.n * g.oh * g.ow * g.co * g.kh * g.kw * (g.c / g.groups);
}

std::string key_of(ConvKind kind, const ConvGeometry& g, bool has_bias, int activation) {
  return cache_key({kind, omp_get_max_threads(), g.n, g.h, g.w, g.c, g.kh, g.kw, g.co, g.oh, g.ow, g.sh, g.sw,
                    g.pt, g.pl, g.pb, g.pr, g.dh, g.dw, g.groups, has_bias ? 1 : 0, activation});
}

dnnl::convolution_forward::primitive_desc forward_pd(const Descs& d, dnnl::prop_kind prop,
                                                     bool has_bias, int activation) {
  dnnl::primitive_attr attr = base_attr();
  if (activation == 1) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  if (has_bias) {
    dnnl::convolution_forward::desc desc(prop, dnnl::algorithm::convolution_direct, d.src,
                                         d.weights_any, d.bias, d.dst, d.strides, d.dilates,
                                         d.pad_l, d.pad_r);
    return dnnl::convolution_forward::primitive_desc(desc, attr, cpu_engine());
  }
  dnnl::convolution_forward::desc desc(prop, dnnl::algorithm::convolution_direct, d.src,
                                       d.weights_any, d.dst, d.strides, d.dilates, d.pad_l,
                                       d.pad_r);
  return dnnl::convolution_forward::primitive_desc(desc, attr, cpu_engine());
}

/** Fills the weights part of `p`: user HWIO memory, internal memory and reorder if needed. */
void setup_weights(ConvPrimitive& p, const Descs& d, const memory::desc& wanted, bool to_user) {
  p.user_weights = unbound_memory(d.weights_user);
  if (wanted == d.weights_user) {
    p.weights = p.user_weights;
    p.reorder_weights = false;
    return;
  }
  p.weights = memory(wanted, cpu_engine());  // owned by the entry, reused every call
  p.reorder_weights = true;
  p.reorder = to_user ? dnnl::reorder(p.weights, p.user_weights)
                      : dnnl::reorder(p.user_weights, p.weights);
}

ConvPrimitive* get_forward(const ConvGeometry& g, bool has_bias, int activation) {
  std::string key = key_of(kForward, g, has_bias, activation);
  if (ConvPrimitive* hit = cache().get(key)) return hit;
  Descs d = make_descs(g);
  auto pd = forward_pd(d, dnnl::prop_kind::forward_inference, has_bias, activation);
  auto p = std::make_unique<ConvPrimitive>();
  p->prim = dnnl::convolution_forward(pd);
  p->act_in = unbound_memory(pd.src_desc());
  p->act_out = unbound_memory(pd.dst_desc());
  if (has_bias) p->bias = unbound_memory(pd.bias_desc());
  setup_weights(*p, d, pd.weights_desc(), false);
  p->scratch_desc = pd.scratchpad_desc();
  p->scratch = unbound_memory(p->scratch_desc);
  return cache().put(key, std::move(p));
}

ConvPrimitive* get_backward_data(const ConvGeometry& g) {
  std::string key = key_of(kBackwardData, g, false, 0);
  if (ConvPrimitive* hit = cache().get(key)) return hit;
  Descs d = make_descs(g);
  auto hint = forward_pd(d, dnnl::prop_kind::forward_training, false, 0);
  dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, d.src,
                                             d.weights_any, d.dst, d.strides, d.dilates,
                                             d.pad_l, d.pad_r);
  dnnl::convolution_backward_data::primitive_desc pd(desc, base_attr(), cpu_engine(), hint);
  auto p = std::make_unique<ConvPrimitive>();
  p->prim = dnnl::convolution_backward_data(pd);
  p->act_in = unbound_memory(pd.diff_dst_desc());
  p->act_out = unbound_memory(pd.diff_src_desc());
  setup_weights(*p, d, pd.weights_desc(), false);
  p->scratch_desc = pd.scratchpad_desc();
  p->scratch = unbound_memory(p->scratch_desc);
  return cache().put(key, std::move(p));
}

ConvPrimitive* get_backward_weights(const ConvGeometry& g) {
  std::string key = key_of(kBackwardWeights, g, false, 0);
  if (ConvPrimitive* hit = cache().get(key)) return hit;
  Descs d = make_descs(g);
  auto hint = forward_pd(d, dnnl::prop_kind::forward_training, false, 0);
  dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, d.src,
                                                d.weights_any, d.dst, d.strides, d.dilates,
                                                d.pad_l, d.pad_r);
  dnnl::convolution_backward_weights::primitive_desc pd(desc, base_attr(), cpu_engine(), hint);
  auto p = std::make_unique<ConvPrimitive>();
  p->prim = dnnl::convolution_backward_weights(pd);
  p->act_in = unbound_memory(pd.src_desc());
  p->act_out = unbound_memory(pd.diff_dst_desc());
  setup_weights(*p, d, pd.diff_weights_desc(), true);
  p->scratch_desc = pd.scratchpad_desc();
  p->scratch = unbound_memory(p->scratch_desc);
  return cache().put(key, std::move(p));
}

void* mut(const float* p) { return const_cast<float*>(p); }

}  // namespace

void conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    int activation, float* y) {
  ThreadScope scope(threads_for_flops(flops_of(g)));
  ConvPrimitive* p = get_forward(g, bias != nullptr, activation);
  dnnl::stream& s = cpu_stream();
  p->user_weights.set_data_handle(mut(w));
  if (p->reorder_weights) p->reorder.execute(s, p->user_weights, p->weights);
  p->act_in.set_data_handle(mut(x));
  p->act_out.set_data_handle(y);
  bind_scratchpad(p->scratch, p->scratch_desc);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, p->act_in},
                                       {DNNL_ARG_WEIGHTS, p->weights},
                                       {DNNL_ARG_DST, p->act_out},
                                       {DNNL_ARG_SCRATCHPAD, p->scratch}};
  if (bias != nullptr) {
    p->bias.set_data_handle(mut(bias));
    args.emplace(DNNL_ARG_BIAS, p->bias);
  }
  p->prim.execute(s, args);
  s.wait();
}

void conv2d_backward_data(const ConvGeometry& g, const float* dy, const float* w, float* dx) {
  ThreadScope scope(threads_for_flops(flops_of(g)));
  ConvPrimitive* p = get_backward_data(g);
  dnnl::stream& s = cpu_stream();
  p->user_weights.set_data_handle(mut(w));
  if (p->reorder_weights) p->reorder.execute(s, p->user_weights, p->weights);
  p->act_in.set_data_handle(mut(dy));
  p->act_out.set_data_handle(dx);
  bind_scratchpad(p->scratch, p->scratch_desc);
  p->prim.execute(s, {{DNNL_ARG_DIFF_DST, p->act_in},
                      {DNNL_ARG_WEIGHTS, p->weights},
                      {DNNL_ARG_DIFF_SRC, p->act_out},
                      {DNNL_ARG_SCRATCHPAD, p->scratch}});
  s.wait();
}

void conv2d_backward_weights(const ConvGeometry& g, const float* x, const float* dy, float* dw) {
  ThreadScope scope(threads_for_flops(flops_of(g)));
  ConvPrimitive* p = get_backward_weights(g);
  dnnl::stream& s = cpu_stream();
  p->user_weights.set_data_handle(dw);
  p->act_in.set_data_handle(mut(x));
  p->act_out.set_data_handle(mut(dy));
  bind_scratchpad(p->scratch, p->scratch_desc);
  p->prim.execute(s, {{DNNL_ARG_SRC, p->act_in},
                      {DNNL_ARG_DIFF_DST, p->act_out},
                      {DNNL_ARG_DIFF_WEIGHTS, p->weights},
                      {DNNL_ARG_SCRATCHPAD, p->scratch}});
  if (p->reorder_weights) p->reorder.execute(s, p->weights, p->user_weights);
  s.wait();
}

}  // namespace convlab
