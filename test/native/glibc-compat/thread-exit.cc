// The glibc 2.17 paths of native/compat/glibc-compat.cc, linked as the portable prebuild
// links it (test/native/glibc-compat.test.ts builds this with the same -include, --wrap and
// static libstdc++, and AG_COMPAT_TEST=1 to act as on glibc 2.17, =0 for glibc's own).
// Prints one line per thread: the order its thread_local objects were made (+n) and
// destroyed (-n) in, then the fallback's registrations and whether mallinfo2 agrees with
// mallinfo. Thread 0 is the main thread, whose objects die in exit().
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern "C" int ag_compat_fallback_registrations;

namespace {
constexpr int kThreads = 4;
std::mutex mu;
std::string lines[kThreads + 1];
thread_local int self = -1;  // trivially destroyed: still readable while the others die

void record(const char* kind, int n) {
  std::lock_guard<std::mutex> lock(mu);
  lines[self] += std::string(lines[self].empty() ? "" : " ") + kind + std::to_string(n);
}

struct Obj {
  int n;
  explicit Obj(int n) : n(n) { record("+", n); }
  ~Obj() { record("-", n); }
};

// made while another thread_local is destroyed: it must die next, before the older ones
Obj& late() {
  thread_local Obj o(99);
  return o;
}

struct Reviver {
  Reviver() { record("+", 0); }
  ~Reviver() {
    late();
    record("-", 0);
  }
};

// each thread makes a different number of objects, with heap memory of their own (ASan: freed)
void body(int id) {
  self = id;
  thread_local Obj a(1);
  thread_local std::vector<Obj> many;
  many.reserve(8);
  for (int i = 0; i < id; i++) many.emplace_back(10 + i);
  thread_local Obj b(2);
  if (id % 2) {
    thread_local Reviver r;
  }
  thread_local Obj c(3);
}

void print() {
  for (int t = 0; t <= kThreads; t++) std::printf("thread %d: %s\n", t, lines[t].c_str());
  std::printf("fallback registrations: %d\n", ag_compat_fallback_registrations);
  std::fflush(stdout);
}
}  // namespace

int main() {
  std::atexit(print);  // registered first: runs after the main thread's objects are gone
  struct mallinfo m1 = mallinfo();
  struct mallinfo2 m2 = mallinfo2();
  const bool same = m1.arena == (int)m2.arena && m1.uordblks == (int)m2.uordblks && m1.fordblks == (int)m2.fordblks && m1.hblkhd == (int)m2.hblkhd;
  std::printf("mallinfo2 = mallinfo: %s\n", same ? "yes" : "no");
  std::vector<std::thread> threads;
  for (int t = 1; t <= kThreads; t++) threads.emplace_back(body, t);
  for (auto& t : threads) t.join();
  body(0);
  return 0;
}
