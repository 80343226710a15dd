// Memory-bound loops over large tensors (elementwise ops) split over the cores. Small
// loops, and loops inside a finite-difference worker (already one thread per core),
// stay sequential. Only loops whose entries are independent use this: sums keep their
// order, so results do not depend on the thread count.
//
// Threads never let an exception escape (that would be std::terminate, SIGABRT): a
// thread that cannot be started leaves its share to the calling thread, and an
// exception inside one is carried back and rethrown on the calling thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace ag {

int defaultThreads();

/** Most threads any loop or the finite-difference driver starts, whatever AUTOGRAD_THREADS says. */
constexpr int MAX_THREADS = 64;

/** true on the finite-difference workers (engine.cc), which must not start threads of their own */
inline thread_local bool inWorker = false;

/** Below this many entries a thread start (~30 µs) costs more than it saves. */
constexpr int64_t PARALLEL_MIN = 1 << 17;

/** The first exception thrown on any of a group of threads, to rethrow on the calling thread. */
class FirstError {
 public:
  void capture() {
    std::lock_guard<std::mutex> lock(m_);
    if (!e_) e_ = std::current_exception();
  }
  void rethrow() {
    if (e_) std::rethrow_exception(e_);
  }

 private:
  std::mutex m_;
  std::exception_ptr e_;
};

/**
 * Run work(i) for i in [0, T) on up to T threads (the calling thread takes i = 0, and
 * every i whose thread could not be started); rethrow the first exception after all joined.
 */
template <class W>
void runThreads(int T, W&& work) {
  FirstError err;
  auto guarded = [&](int i) {
    try {
      work(i);
    } catch (...) {
      err.capture();
    }
  };
  std::vector<std::thread> pool;
  std::vector<int> inline_;
  for (int i = 1; i < T; i++) {
    try {
      pool.emplace_back(guarded, i);
    } catch (const std::system_error&) {
      inline_.push_back(i);  // no thread to be had: this share runs here
    }
  }
  guarded(0);
  for (int i : inline_) guarded(i);
  for (auto& th : pool) th.join();
  err.rethrow();
}

template <class F>
void parallelFor(int64_t n, F&& f) {
  const int T = n >= PARALLEL_MIN && !inWorker ? std::min(defaultThreads(), 8) : 1;
  if (T <= 1) {
    f((int64_t)0, n);
    return;
  }
  const int64_t chunk = (n + T - 1) / T;
  runThreads(T, [&](int t) {
    const int64_t b = t * chunk, e = std::min(n, b + chunk);
    if (b >= e) return;
    struct Flag {
      bool saved = inWorker;
      ~Flag() { inWorker = saved; }
    } flag;
    inWorker = t != 0 || flag.saved;
    f(b, e);
  });
}

}  // namespace ag
