#include "engine.h"

#include "parallel.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace ag {

namespace {

/** The op table's index of `name` (-1 when absent). */
int opCode(const char* name) {
  const auto& table = opTable();
  for (size_t i = 0; i < table.size(); i++)
    if (table[i].name == name) return (int)i;
  return -1;
}

/** A computed transpose: a matrix product can read its input instead, with gemm's transpose flag. */
bool isTranspose(const Node& n) {
  static const int code = opCode("transpose");
  return n.kernel && n.op == code;
}

/**
 * Matrix products read a transposed argument from the transpose's input with gemm's
 * transpose flag (a vector's transpose holds the same data: it is read as it is). A
 * transpose that only products read, and that is neither the output nor kept for the
 * caller, is then never computed: the backward pass of x·W is full of them (gᵀ·x, g·Wᵀ).
 */
void readThroughTransposes(Tape& t) {
  const int64_t N = (int64_t)t.nodes.size();
  std::vector<int32_t> otherReaders(N, 0);
  std::vector<char> keep(N, 0);
  if (t.keepGiven) {
    for (int32_t k : t.keep) keep[k] = 1;
  } else {
    std::fill(keep.begin(), keep.end(), 1);  // the caller may read any node
  }
  keep[t.output] = 1;
  for (int64_t id = 0; id < N; id++) {
    Node& n = t.nodes[id];
    static const int matmul = opCode("matmul");
    const bool product = n.kernel && n.op == matmul;
    for (int i = 0; i < n.nInputs; i++) {
      const int32_t from = t.inId(n, i);
      const Node& in = t.nodes[from];
      if (product && isTranspose(in)) {
        const Node& src = t.in(in, 0);
        n.operand[i] = t.inId(in, 0);
        // a vector, a row or a column reads the same either way
        n.transposed[i] = src.rank == 2 && src.dims[0] != 1 && src.dims[1] != 1;
      } else {
        otherReaders[from]++;
      }
    }
  }
  for (int64_t id = 0; id < N; id++) {
    Node& n = t.nodes[id];
    if (isTranspose(n) && otherReaders[id] == 0 && !keep[id]) n.kernel = nullptr;
  }
}

}  // namespace

std::string finishTape(Compiled& c) {
  Tape& t = c.tape;
  const auto& table = opTable();
  const int64_t N = (int64_t)t.nodes.size();
  if (N == 0 || t.output < 0 || t.output >= N) return "the tape has no output";
  t.kinkNodes.clear();
  t.maxSize = 1;
  for (int64_t id = 0; id < N; id++) {
    Node& n = t.nodes[id];
    const std::string where = "node " + std::to_string(id);
    if (n.op < 0 || n.op >= (int)table.size()) return where + ": unknown op code";
    const OpEntry& e = table[n.op];
    if (n.rank < 0 || n.rank > 2) return where + ": rank above 2";
    int64_t size = 1;
    for (int d = 0; d < n.rank; d++) {
      if (n.dims[d] < 0) return where + ": negative dimension";
      size *= n.dims[d];
    }
    if (size != n.size) return where + ": size does not match the shape";
    if (n.offset < 0 || n.offset + n.size > t.arenaSize) return where + ": outside the arena";
    if (n.firstInput < 0 || n.nInputs < 0 || (size_t)(n.firstInput + n.nInputs) > t.inputs.size()) return where + ": bad input list";
    for (int i = 0; i < n.nInputs; i++) {
      const int32_t in = t.inId(n, i);
      // topological order is what lets one pass forward do everything
      if (in < 0 || in >= id) return where + ": an input does not come before it";
    }
    if (n.firstGather < 0 || n.firstGather + n.nGather > (int64_t)t.gather.size()) return where + ": bad gather table";
    t.maxSize = std::max(t.maxSize, n.size);
    if (e.leaf) {
      if (n.nInputs != 0) return where + ": a leaf with inputs";
      n.kernel = nullptr;
      continue;
    }
    const Kernel* k = n.nInputs >= 1 && n.nInputs <= 3 && e.kernels[n.nInputs].forward ? &e.kernels[n.nInputs]
                      : e.kernels[0].forward && n.nInputs >= 1                         ? &e.kernels[0]
                                                                                       : nullptr;
    if (!k) return "the native engine has no rule for " + e.name + " with " + std::to_string(n.nInputs) + " arguments";
    if (k->check) {
      if (const char* why = k->check(t, n)) return where + " (" + e.name + "): " + why;
    }
    n.kernel = k;
    if (e.hasBranch) t.kinkNodes.push_back((int32_t)id);
  }
  for (int32_t in : t.inputNodes)
    if (in < 0 || in >= N) return "a tape input is not a node";
  for (int64_t s : t.slots)
    if (s < 0 || s >= t.arenaSize) return "an input slot is outside the arena";
  for (int32_t k : t.keep)
    if (k < 0 || k >= N) return "a node to keep is not a node";
  readThroughTransposes(t);
  return "";
}

void forward(const Tape& t, double* arena, Scratch& sc, const Deadline& dl, int64_t from) {
  const DeadlineScope kernels(&dl);
  const int64_t N = (int64_t)t.nodes.size();
  for (int64_t id = std::max<int64_t>(from, 0); id < N; id++) {
    const Node& n = t.nodes[id];
    if (!n.kernel) continue;
    if (dl.passed()) throw Timeout();
    n.kernel->forward(t, n, arena, sc);
  }
}

double branchCode(const Tape& t, const double* arena) {
  double code = 0;
  for (int32_t id : t.kinkNodes) {
    const Node& n = t.nodes[id];
    const double c = n.kernel->branch ? n.kernel->branch(t, n, arena) : 0;
    code = std::fmod(code * 31 + c, 9007199254740881.0);
  }
  return code;
}

int defaultThreads() {
  // read strictly: a whole number from 1, capped at MAX_THREADS; anything else is ignored
  if (const char* env = std::getenv("AUTOGRAD_THREADS")) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && errno == 0 && v >= 1) return (int)std::min<long>(v, MAX_THREADS);
  }
  const unsigned h = std::thread::hardware_concurrency();
  return h == 0 ? 1 : (int)std::min<unsigned>(h, MAX_THREADS);
}

namespace {

void evaluateRange(const Compiled& c, const double* arena, int64_t p0, int64_t p1, const int32_t* coord, const double* delta,
                   const double* direction, double* values, double* branches, const Deadline& dl) {
  const Tape& t = c.tape;
  // the points are already split over the cores: no threads inside (restored on return,
  // since the calling thread runs a share of the points too)
  struct WorkerFlag {
    bool saved = inWorker;
    WorkerFlag() { inWorker = true; }
    ~WorkerFlag() { inWorker = saved; }
  } flag;
  // one copy of the arena per thread, reused for every point: the perturbed entries are
  // put back after each point, and forward overwrites every computed node anyway
  std::vector<double> work(arena, arena + t.arenaSize);
  Scratch sc;
  const int64_t out = t.nodes[t.output].offset;
  const int64_t nSlots = (int64_t)t.slots.size();
  for (int64_t p = p0; p < p1; p++) {
    if (coord[p] >= 0) work[t.slots[coord[p]]] += delta[p];
    else for (int64_t j = 0; j < nSlots; j++) work[t.slots[j]] += delta[p] * direction[j];
    if (dl.passed()) throw Timeout();
    forward(t, work.data(), sc, dl);
    values[p] = work[out];
    branches[p] = branchCode(t, work.data());
    if (coord[p] >= 0) work[t.slots[coord[p]]] = arena[t.slots[coord[p]]];
    else for (int64_t j = 0; j < nSlots; j++) work[t.slots[j]] = arena[t.slots[j]];
  }
}

}  // namespace

void evaluate(const Compiled& c, const double* arena, int64_t count, const int32_t* coord, const double* delta,
              const double* direction, double* values, double* branches, int threads, const Deadline& dl) {
  // a thread costs ~50 µs to start and an arena copy; worth it when the points are many
  // and each forward pass is not tiny. Each thread holds one work arena: the caller
  // (native.ts) chooses `threads` so those copies fit the memory limit.
  const double work = (double)count * (double)(c.tape.arenaSize + (int64_t)c.tape.nodes.size() * 16);
  int T = std::max(1, std::min<int>(std::min(threads, MAX_THREADS), (int)std::min<int64_t>(count, 1 << 20)));
  if (work < 2e5) T = 1;
  if (T == 1) {
    evaluateRange(c, arena, 0, count, coord, delta, direction, values, branches, dl);
    return;
  }
  const int64_t chunk = (count + T - 1) / T;
  runThreads(T, [&](int i) {
    const int64_t p0 = i * chunk, p1 = std::min(count, p0 + chunk);
    if (p0 < p1) evaluateRange(c, arena, p0, p1, coord, delta, direction, values, branches, dl);
  });
}

}  // namespace ag
