// Process-wide state: thread count, oneDNN engine/stream, scratch buffers.
#include "runtime.h"

#include <omp.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <strings.h>
#include <new>

namespace convlab {

namespace {

int g_threads = 1;
// Whether libgomp's idle threads go to sleep within ~50 us (OMP_WAIT_POLICY=passive or a
// small GOMP_SPINCOUNT), so that waking them costs a futex round trip on most kernels.
bool g_passive_wait = false;

struct Scratch {
  void* data = nullptr;
  size_t bytes = 0;
};
Scratch g_scratch[3];

/** CONVLAB_NUM_THREADS if it is an integer in [1, 1024], else the CPUs this process may use. */
int default_threads() {
  const char* env = std::getenv("CONVLAB_NUM_THREADS");
  if (env != nullptr && *env != '\0') {
    char* end = nullptr;
    long value = std::strtol(env, &end, 10);
    if (end != nullptr && *end == '\0' && value >= 1 && value <= 1024) return static_cast<int>(value);
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<int>(online) : 1;
}

}  // namespace

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpu_stream() {
  static dnnl::stream stream(cpu_engine());
  return stream;
}

void init_runtime() {
  // libgomp's idle threads spin GOMP_SPINCOUNT pause instructions (default 300000, about
  // 5 ms here; 0 with OMP_WAIT_POLICY=passive) before sleeping; an explicit GOMP_SPINCOUNT
  // wins over the policy.
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  if (spin != nullptr && *spin != '\0') {
    char* end = nullptr;
    double count = std::strtod(spin, &end);
    g_passive_wait = end != spin && count <= 10000;
  } else {
    g_passive_wait = policy != nullptr && strcasecmp(policy, "passive") == 0;
  }
  set_num_threads(default_threads());
  // oneDNN keeps its own cache of primitives keyed by descriptor; ours already holds every
  // primitive we reuse, so a large second cache would only keep dead JIT code alive.
  dnnl::set_primitive_cache_capacity(64);
}

int num_threads() { return g_threads; }

// Thresholds measured with bench/native_kernels.js on a 2-core VM: [64,576]x[576,64]
// (4.7 MFLOP) took 23 us on one thread and 43 us on two with passive waiting.
int threads_for_flops(double flops) {
  return flops < (g_passive_wait ? 1e7 : 2e5) ? 1 : g_threads;
}

int threads_for_elements(double elements) {
  return elements < (g_passive_wait ? 1e6 : 6.4e4) ? 1 : g_threads;
}

void set_num_threads(int n) {
  g_threads = n;
  // omp_set_num_threads sets the calling thread's ICV: every call into the addon comes from
  // the thread that loaded it (the JS thread), so this governs all our parallel regions and
  // oneDNN's. Cached primitives include the thread count in their key.
  omp_set_num_threads(n);
}

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

std::string onednn_isa() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::all: return "all";
  }
  return "unknown";
}

void* scratch_buffer(int slot, size_t bytes) {
  Scratch& s = g_scratch[slot];
  if (bytes > s.bytes) {
    // Grow by a quarter more than asked so slowly growing shapes do not reallocate each call.
    size_t size = (bytes + bytes / 4 + 63) / 64 * 64;
    void* data = nullptr;
    if (posix_memalign(&data, 64, size) != 0 || data == nullptr) {
      throw KernelError("out of memory allocating " + std::to_string(size) + " bytes of scratch");
    }
    std::free(s.data);
    s.data = data;
    s.bytes = size;
  }
  return s.data;
}

}  // namespace convlab
