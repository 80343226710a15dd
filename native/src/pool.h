// A few threads kept for the life of the process, for work split into tasks too short
// for a thread start (~30-50 µs each; runThreads in parallel.h starts threads per call):
// the matrix products of a training step take 0.1-0.3 ms each. The calling thread takes
// tasks too, and tasks are claimed one at a time from a shared counter, so a worker that
// the system has not scheduled yet (a busy machine) only means the caller does more of
// them: never a wait for a thread that has not started. It waits only for tasks that a
// worker has begun.
//
// Exceptions inside a task are carried back and rethrown on the calling thread (as in
// runThreads); a worker that cannot be started leaves its share to the others.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "parallel.h"

namespace ag {

class Pool {
 public:
  /** The process's pool: defaultThreads() threads in all, the caller included. */
  static Pool& get() {
    static Pool* p = new Pool(defaultThreads());  // never destroyed: workers may outlive static destructors
    return *p;
  }

  /** Threads that take tasks, the caller included. */
  int size() const { return 1 + (int)workers_.size(); }

  /**
   * run(i) for every i in [0, count), on the caller and the workers; returns when all are
   * done. One job at a time: while another thread's job runs (an addon used from several
   * JavaScript threads, or a task that starts a job), the caller runs every task itself.
   */
  template <class F>
  void run(int64_t count, F&& f) {
    if (count <= 0) return;
    bool idle = false;
    FirstError err;
    if (workers_.empty() || !busy_.compare_exchange_strong(idle, true, std::memory_order_acquire)) {
      for (int64_t i = 0; i < count; i++) {
        try {
          f(i);
        } catch (...) {
          err.capture();
        }
      }
      err.rethrow();
      return;
    }
    Job job;
    job.count = count;
    job.err = &err;
    job.body = &f;
    job.call = [](const void* body, int64_t i) { (*static_cast<const std::remove_reference_t<F>*>(body))(i); };
    bool sleepers;
    {
      std::lock_guard<std::mutex> l(m_);
      job_ = &job;
      gen_.fetch_add(1, std::memory_order_release);
      sleepers = sleeping_ > 0;
    }
    if (sleepers) wake_.notify_all();
    work(job);
    {
      // no worker enters the job after this; the ones inside finish the task they took
      std::unique_lock<std::mutex> l(m_);
      job_ = nullptr;
      left_.wait(l, [&] { return inside_ == 0; });
    }
    busy_.store(false, std::memory_order_release);
    err.rethrow();
  }

 private:
  struct Job {
    int64_t count = 0;
    std::atomic<int64_t> next{0};
    FirstError* err = nullptr;
    const void* body = nullptr;
    void (*call)(const void*, int64_t) = nullptr;
  };

  explicit Pool(int threads) {
    for (int i = 1; i < threads; i++) {
      try {
        workers_.emplace_back([this] { loop(); });
        workers_.back().detach();
      } catch (const std::system_error&) {
        break;  // fewer workers: the caller and the others take their tasks
      }
    }
  }

  static void work(Job& job) {
    for (;;) {
      const int64_t i = job.next.fetch_add(1, std::memory_order_relaxed);
      if (i >= job.count) return;
      try {
        job.call(job.body, i);
      } catch (...) {
        job.err->capture();
      }
    }
  }

  void loop() {
    inWorker = true;  // a task's own loops stay on its thread
    uint64_t seen = 0;
    for (;;) {
      // the products of one step come a few µs apart: look for the next job for a while
      // before sleeping, as a wake-up costs about as much as a short product
      const auto until = std::chrono::steady_clock::now() + SPIN;
      for (int spin = 1; gen_.load(std::memory_order_acquire) == seen; spin++) {
        relax();
        if (spin % 64 == 0 && std::chrono::steady_clock::now() > until) break;
      }
      Job* job;
      {
        std::unique_lock<std::mutex> l(m_);
        sleeping_++;
        wake_.wait(l, [&] { return gen_.load(std::memory_order_relaxed) != seen; });
        sleeping_--;
        seen = gen_.load(std::memory_order_relaxed);
        job = job_;
        if (!job) continue;  // that job is over already
        inside_++;
      }
      work(*job);
      {
        std::lock_guard<std::mutex> l(m_);
        inside_--;
      }
      left_.notify_all();
    }
  }

  std::atomic<bool> busy_{false};  // a job is running
  std::mutex m_;
  std::condition_variable wake_, left_;
  static constexpr std::chrono::microseconds SPIN{100};
  static void relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  std::atomic<uint64_t> gen_{0};
  Job* job_ = nullptr;
  int inside_ = 0;
  int sleeping_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace ag
