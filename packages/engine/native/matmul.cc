// Batched row-major matrix product with optional bias and relu.
//
// oneDNN's matmul primitive (cached per shape), strided views for the transposes, bias and
// relu fused. An OpenBLAS path exists for comparison: built only with CONVLAB_OPENBLAS=1,
// used only with CONVLAB_MATMUL=openblas; it runs single-threaded sgemm calls split across
// the OpenMP team, so OpenBLAS's own pthreads never compete with OpenMP's. On the course's
// Dense shapes oneDNN measured 1.5-2.5x faster (bench/native_kernels.js), hence the default.
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>

#include "kernels.h"
#include "runtime.h"

#ifdef CONVLAB_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace convlab {

namespace {

using dnnl::memory;
using dt = dnnl::memory::data_type;

struct MatMulPrimitive {
  dnnl::matmul prim;
  memory a, b, bias, c, scratch;
  memory::desc scratch_desc;
};

LruCache<MatMulPrimitive>& cache() {
  static LruCache<MatMulPrimitive> c(64);
  return c;
}

MatMulPrimitive* get_primitive(const MatMulGeometry& g, bool has_bias, int activation, int threads) {
  std::string key = cache_key({threads, g.batchA, g.batchB, g.m, g.n, g.k, g.transposeA,
                               g.transposeB, has_bias ? 1 : 0, activation});
  if (MatMulPrimitive* hit = cache().get(key)) return hit;
  const int64_t m = g.m, n = g.n, k = g.k, batch = std::max(g.batchA, g.batchB);
  memory::desc a_md, b_md, c_md, bias_md;
  if (g.batchA == 1 && g.batchB == 1) {
    a_md = memory::desc({m, k}, dt::f32, g.transposeA ? memory::dims{1, m} : memory::dims{k, 1});
    b_md = memory::desc({k, n}, dt::f32, g.transposeB ? memory::dims{1, k} : memory::dims{n, 1});
    c_md = memory::desc({m, n}, dt::f32, memory::dims{n, 1});
    bias_md = memory::desc({1, n}, dt::f32, memory::dims{n, 1});
  } else {
    a_md = memory::desc({g.batchA, m, k}, dt::f32,
                        g.transposeA ? memory::dims{m * k, 1, m} : memory::dims{m * k, k, 1});
    b_md = memory::desc({g.batchB, k, n}, dt::f32,
                        g.transposeB ? memory::dims{k * n, 1, k} : memory::dims{k * n, n, 1});
    c_md = memory::desc({batch, m, n}, dt::f32, memory::dims{m * n, n, 1});
    bias_md = memory::desc({1, 1, n}, dt::f32, memory::dims{n, n, 1});
  }
  dnnl::primitive_attr attr = base_attr();
  if (activation == 1) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  auto desc = has_bias ? dnnl::matmul::desc(a_md, b_md, bias_md, c_md)
                       : dnnl::matmul::desc(a_md, b_md, c_md);
  dnnl::matmul::primitive_desc pd(desc, attr, cpu_engine());
  auto p = std::make_unique<MatMulPrimitive>();
  p->prim = dnnl::matmul(pd);
  p->a = unbound_memory(a_md);
  p->b = unbound_memory(b_md);
  p->c = unbound_memory(c_md);
  if (has_bias) p->bias = unbound_memory(bias_md);
  p->scratch_desc = pd.scratchpad_desc();
  p->scratch = unbound_memory(p->scratch_desc);
  return cache().put(key, std::move(p));
}

void matmul_onednn(const MatMulGeometry& g, const float* a, const float* b, const float* bias,
                   int activation, float* out) {
  // Small products (the course's Dense layers) run on the calling thread alone.
  const int threads = threads_for_flops(2.0 * std::max(g.batchA, g.batchB) * g.m * g.n * g.k);
  ThreadScope scope(threads);
  MatMulPrimitive* p = get_primitive(g, bias != nullptr, activation, threads);
  dnnl::stream& s = cpu_stream();
  p->a.set_data_handle(const_cast<float*>(a));
  p->b.set_data_handle(const_cast<float*>(b));
  p->c.set_data_handle(out);
  bind_scratchpad(p->scratch, p->scratch_desc);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, p->a},
                                       {DNNL_ARG_WEIGHTS, p->b},
                                       {DNNL_ARG_DST, p->c},
                                       {DNNL_ARG_SCRATCHPAD, p->scratch}};
  if (bias != nullptr) {
    p->bias.set_data_handle(const_cast<float*>(bias));
    args.emplace(DNNL_ARG_BIAS, p->bias);
  }
  p->prim.execute(s, args);
  s.wait();
}

#ifdef CONVLAB_HAVE_OPENBLAS
/**
 * Rows [r0, r1) of batch `bi`: out = a·b (+ bias, relu), one single-threaded sgemm.
 * Row r of op(a) starts at a + r*k (row-major) or a + r (transposed: a is [k, m]).
 */
void sgemm_rows(const MatMulGeometry& g, const float* a, const float* b, const float* bias,
                int activation, float* out, int64_t bi, int64_t r0, int64_t r1) {
  const int64_t m = g.m, n = g.n, k = g.k;
  const float* A = a + (g.batchA == 1 ? 0 : bi) * m * k + (g.transposeA ? r0 : r0 * k);
  const float* B = b + (g.batchB == 1 ? 0 : bi) * k * n;
  float* C = out + bi * m * n + r0 * n;
  const int64_t rows = r1 - r0;
  float beta = 0.0f;
  if (bias != nullptr) {
    for (int64_t r = 0; r < rows; ++r) std::memcpy(C + r * n, bias, n * sizeof(float));
    beta = 1.0f;
  }
  cblas_sgemm(CblasRowMajor, g.transposeA ? CblasTrans : CblasNoTrans,
              g.transposeB ? CblasTrans : CblasNoTrans, static_cast<int>(rows),
              static_cast<int>(n), static_cast<int>(k), 1.0f, A,
              static_cast<int>(g.transposeA ? m : k), B, static_cast<int>(g.transposeB ? k : n),
              beta, C, static_cast<int>(n));
  if (activation == 1) {
    for (int64_t i = 0; i < rows * n; ++i) C[i] = C[i] > 0.0f ? C[i] : 0.0f;
  }
}

void matmul_openblas(const MatMulGeometry& g, const float* a, const float* b, const float* bias,
                     int activation, float* out) {
  const int64_t batch = std::max(g.batchA, g.batchB);
  const double flops = 2.0 * batch * g.m * g.n * g.k;
  const int threads = threads_for_flops(flops);
  // Work items: (batch, row block); rows split so every thread gets about one block.
  const int64_t blocks_per_batch =
      batch >= threads ? 1 : std::min<int64_t>(g.m, (threads + batch - 1) / batch);
  const int64_t rows_per_block = (g.m + blocks_per_batch - 1) / blocks_per_batch;
  const int64_t items = batch * blocks_per_batch;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t bi = item / blocks_per_batch;
    const int64_t r0 = (item % blocks_per_batch) * rows_per_block;
    const int64_t r1 = std::min(g.m, r0 + rows_per_block);
    if (r0 < r1) sgemm_rows(g, a, b, bias, activation, out, bi, r0, r1);
  }
}

bool use_openblas() {
  static const bool value = [] {
    const char* env = std::getenv("CONVLAB_MATMUL");
    return env != nullptr && std::strcmp(env, "openblas") == 0;
  }();
  return value;
}
#endif

}  // namespace

void matmul(const MatMulGeometry& geometry, const float* a, const float* b, const float* bias,
            int activation, float* out) {
  MatMulGeometry g = geometry;
  // A batch of row-major A against one B is a single taller product.
  if (g.batchB == 1 && g.batchA > 1 && !g.transposeA) {
    g.m *= g.batchA;
    g.batchA = 1;
  }
#ifdef CONVLAB_HAVE_OPENBLAS
  if (use_openblas()) {
    matmul_openblas(g, a, b, bias, activation, out);
    return;
  }
#endif
  matmul_onednn(g, a, b, bias, activation, out);
}

const char* matmul_backend() {
#ifdef CONVLAB_HAVE_OPENBLAS
  if (use_openblas()) return "openblas";
#endif
  return "onednn";
}

#ifdef CONVLAB_HAVE_OPENBLAS
void init_matmul() { openblas_set_num_threads(1); }
#else
void init_matmul() {}
#endif

}  // namespace convlab
