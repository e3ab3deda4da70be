// oneDNN engine, stream and the primitive cache shared by conv.cc and matmul.cc.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "kernels.h"

namespace convlab {

/** The one CPU engine of the process. */
dnnl::engine& cpu_engine();
/** The one stream every primitive runs on (in-order; OpenMP makes execution synchronous). */
dnnl::stream& cpu_stream();

/**
 * Runs the enclosing scope with `threads` OpenMP threads (oneDNN reads omp_get_max_threads
 * when it creates and runs a primitive); restores num_threads() on exit.
 */
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : changed_(threads != num_threads()) {
    if (changed_) omp_set_num_threads(threads);
  }
  ~ThreadScope() {
    if (changed_) omp_set_num_threads(num_threads());
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  bool changed_;
};

/** A cache key: the raw bytes of every parameter that shapes a primitive. */
inline std::string cache_key(std::initializer_list<int64_t> values) {
  return std::string(reinterpret_cast<const char*>(values.begin()), values.size() * sizeof(int64_t));
}

/**
 * A small least-recently-used map. Creating a oneDNN primitive JIT-compiles code (0.1-5 ms),
 * so each shape/stride/pad configuration keeps its primitive, its memory objects and the
 * buffer for reordered weights.
 */
template <class V>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}

  V* get(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    items_.splice(items_.begin(), items_, it->second);
    return it->second->second.get();
  }

  V* put(const std::string& key, std::unique_ptr<V> value) {
    items_.emplace_front(key, std::move(value));
    index_[key] = items_.begin();
    while (items_.size() > capacity_) {
      index_.erase(items_.back().first);
      items_.pop_back();
    }
    return items_.front().second.get();
  }

 private:
  size_t capacity_;
  std::list<std::pair<std::string, std::unique_ptr<V>>> items_;
  std::unordered_map<std::string, typename std::list<std::pair<std::string, std::unique_ptr<V>>>::iterator>
      index_;
};

/** Primitive attributes every cached primitive uses: a caller-owned scratchpad. */
inline dnnl::primitive_attr base_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

/** A memory object for `desc` without a buffer; the handle is set on every call. */
inline dnnl::memory unbound_memory(const dnnl::memory::desc& desc) {
  return dnnl::memory(desc, cpu_engine(), DNNL_MEMORY_NONE);
}

/** Points `scratch` (a memory over `desc`) at the shared scratchpad, grown if needed. */
inline void bind_scratchpad(dnnl::memory& scratch, const dnnl::memory::desc& desc) {
  size_t bytes = desc.get_size();
  scratch.set_data_handle(bytes ? scratch_buffer(0, bytes) : nullptr);
}

}  // namespace convlab
