// Memory-bound loops over large tensors (elementwise ops) split over the cores. Small
// loops, and loops inside a finite-difference worker (already one thread per core),
// stay sequential. Only loops whose entries are independent use this: sums keep their
// order, so results do not depend on the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace ag {

int defaultThreads();

/** true on the finite-difference workers (engine.cc), which must not start threads of their own */
inline thread_local bool inWorker = false;

/** Below this many entries a thread start (~30 µs) costs more than it saves. */
constexpr int64_t PARALLEL_MIN = 1 << 17;

template <class F>
void parallelFor(int64_t n, F&& f) {
  const int T = n >= PARALLEL_MIN && !inWorker ? std::min(defaultThreads(), 8) : 1;
  if (T <= 1) {
    f((int64_t)0, n);
    return;
  }
  std::vector<std::thread> pool;
  const int64_t chunk = (n + T - 1) / T;
  for (int t = 1; t < T; t++) {
    const int64_t b = t * chunk, e = std::min(n, b + chunk);
    if (b < e) pool.emplace_back([&f, b, e] {
      inWorker = true;
      f(b, e);
    });
  }
  f((int64_t)0, std::min(n, chunk));
  for (auto& th : pool) th.join();
}

}  // namespace ag
