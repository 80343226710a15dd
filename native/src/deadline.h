// The run's deadline (--timeout, src/limits.ts), as the native engine checks it: at every
// node of every pass and every finite-difference point (engine.cc), and inside each kernel
// whose work grows faster than its output (matrix products and their exact recompute,
// gemm.cc), once per block of work. Passing it throws Timeout, which the addon turns into
// a JavaScript error.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace ag {

struct Deadline {
  bool on = false;
  std::chrono::steady_clock::time_point at{};
  static Deadline in(double ms) {
    Deadline d;
    if (ms >= 0 && ms < 1e12) {
      d.on = true;
      d.at = std::chrono::steady_clock::now() + std::chrono::microseconds((int64_t)(ms * 1000));
    }
    return d;
  }
  bool passed() const { return on && std::chrono::steady_clock::now() > at; }
};

struct Timeout : std::runtime_error {
  Timeout() : std::runtime_error("the deadline passed") {}
};

/**
 * The deadline of the pass running on this thread, for kernels (whose signatures do not
 * carry it): set by the drivers for the length of a pass, and by a kernel for the threads
 * it starts. nullptr: none.
 */
inline thread_local const Deadline* runningDeadline = nullptr;

/** Sets runningDeadline for a scope, and puts the earlier one back. */
struct DeadlineScope {
  const Deadline* saved = runningDeadline;
  explicit DeadlineScope(const Deadline* dl) { runningDeadline = dl && dl->on ? dl : nullptr; }
  ~DeadlineScope() { runningDeadline = saved; }
  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;
};

/** Multiply-adds between two readings of the clock inside a kernel: a few milliseconds of work. */
constexpr double DEADLINE_BLOCK = 4e6;

inline thread_local double workSinceCheck = 0;

/**
 * Count `work` multiply-adds (or entries) done inside a kernel; throw Timeout when the
 * running deadline has passed. The clock is read once per DEADLINE_BLOCK of work, so a
 * kernel calls this once per block of its loop, however small.
 */
inline void checkWork(double work) {
  if (!runningDeadline) return;
  workSinceCheck += work;
  if (workSinceCheck < DEADLINE_BLOCK) return;
  workSinceCheck = 0;
  if (runningDeadline->passed()) throw Timeout();
}

}  // namespace ag
