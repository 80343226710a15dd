#include "engine.h"

#include "parallel.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace ag {

std::string finishTape(Compiled& c) {
  Tape& t = c.tape;
  const auto& table = opTable();
  const int64_t N = (int64_t)t.nodes.size();
  if (N == 0 || t.output < 0 || t.output >= N) return "the tape has no output";
  t.kinkNodes.clear();
  t.maxSize = 1;
  c.edgeLength = 0;
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
      // topological order is what lets one pass forward and one backward do everything
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
  // the edges the reverse sweep reports, in its order (see reverse below)
  for (int64_t id = t.output; id >= 0; id--) {
    const Node& n = t.nodes[id];
    if (!n.active || n.nInputs == 0) continue;
    for (int i = 0; i < n.nInputs; i++)
      if (t.in(n, i).active) c.edgeLength += t.in(n, i).size;
  }
  for (int32_t in : t.inputNodes)
    if (in < 0 || in >= N) return "a tape input is not a node";
  for (int64_t s : t.slots)
    if (s < 0 || s >= t.arenaSize) return "an input slot is outside the arena";
  c.touched.assign(N, 0);
  c.tangentOf.assign(N, nullptr);
  return "";
}

void forward(const Tape& t, double* arena, Scratch& sc, const Deadline& dl) {
  const DeadlineScope kernels(&dl);
  for (const Node& n : t.nodes) {
    if (!n.kernel) continue;
    if (dl.passed()) throw Timeout();
    n.kernel->forward(t, n, arena, sc);
  }
}

void reverse(Compiled& c, const double* arena, double* adjoint, const double* seed, double* edges, const Deadline& dl) {
  const DeadlineScope kernels(&dl);
  const Tape& t = c.tape;
  std::vector<char>& touched = c.touched;
  std::fill(touched.begin(), touched.end(), 0);
  const Node& out = t.nodes[t.output];
  if (seed) std::memcpy(adjoint + out.offset, seed, sizeof(double) * out.size);
  else adjoint[out.offset] = 1;
  touched[t.output] = 1;
  int64_t eo = 0;
  for (int64_t id = t.output; id >= 0; id--) {
    const Node& n = t.nodes[id];
    if (!n.active || n.nInputs == 0) continue;
    bool need = false;
    for (int i = 0; i < n.nInputs; i++) need = need || t.in(n, i).active;
    if (!need) continue;
    if (dl.passed()) throw Timeout();
    double* g = adjoint + n.offset;
    if (!touched[id]) {  // nothing flowed into it: its upstream gradient is 0
      std::memset(g, 0, sizeof(double) * n.size);
      touched[id] = 1;
    }
    for (int i = 0; i < n.nInputs; i++) {
      const int32_t from = t.inId(n, i);
      const Node& in = t.nodes[from];
      if (!in.active) continue;
      double* a = adjoint + in.offset;
      if (edges) {
        // the edge's contribution is kept for the report, then added
        double* e = edges + eo;
        eo += in.size;
        n.kernel->vjp(t, n, arena, g, i, e, false, c.scratch);
        if (touched[from]) for (int64_t j = 0; j < in.size; j++) a[j] += e[j];
        else std::memcpy(a, e, sizeof(double) * in.size);
      } else {
        // gradients add at branches: the first contribution is written, later ones added
        n.kernel->vjp(t, n, arena, g, i, a, touched[from] != 0, c.scratch);
      }
      touched[from] = 1;
    }
  }
  // active nodes nothing flowed into (not upstream of the output) have adjoint 0
  for (size_t id = 0; id < t.nodes.size(); id++) {
    const Node& n = t.nodes[id];
    if (n.active && !touched[id]) std::memset(adjoint + n.offset, 0, sizeof(double) * n.size);
  }
}

void jvp(Compiled& c, const double* arena, const double* const* dots, double* outTangent, const Deadline& dl) {
  const DeadlineScope kernels(&dl);
  const Tape& t = c.tape;
  std::vector<const double*>& tan = c.tangentOf;
  std::fill(tan.begin(), tan.end(), nullptr);
  for (size_t k = 0; k < t.inputNodes.size(); k++) tan[t.inputNodes[k]] = dots[k];
  double* buf = c.scratch.get(SCRATCH_TANGENT, (size_t)t.arenaSize);
  std::vector<const double*>& d = c.inputTangents;
  for (size_t id = 0; id < t.nodes.size(); id++) {
    const Node& n = t.nodes[id];
    if (n.nInputs == 0 || !n.active) continue;
    d.resize(n.nInputs);
    bool any = false;
    for (int i = 0; i < n.nInputs; i++) any = (d[i] = tan[t.inId(n, i)]) != nullptr || any;
    if (!any) continue;
    if (dl.passed()) throw Timeout();
    double* o = buf + n.offset;
    n.kernel->jvp(t, n, arena, d.data(), o, c.scratch);
    tan[id] = o;
  }
  const Node& out = t.nodes[t.output];
  if (tan[t.output]) std::memcpy(outTangent, tan[t.output], sizeof(double) * out.size);
  else std::memset(outTangent, 0, sizeof(double) * out.size);
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
