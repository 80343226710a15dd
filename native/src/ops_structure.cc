// Leaves, indexing and array literals (mirror of src/ops/structure.ts).
#include <cstring>

#include "ops.h"

namespace ag {
namespace {

// ----- subset: output entry k reads input entry gather[k]; the backward pass scatter-adds -----
void subsetForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const double* a = arena + t.in(n, 0).offset;
  const int32_t* gi = t.gather.data() + n.firstGather;
  double* out = arena + n.offset;
  for (int64_t k = 0; k < n.nGather; k++) out[k] = a[gi[k]];
}
void subsetVjp(const Tape& t, const Node& n, const double*, const double* g, int, double* dst, bool acc, Scratch& sc) {
  const Node& a = t.in(n, 0);
  const int32_t* gi = t.gather.data() + n.firstGather;
  // repeated indices accumulate; the scatter is formed apart, then added (as the reference)
  double* r = acc ? sc.get(SCRATCH_K1, a.size) : dst;
  std::memset(r, 0, sizeof(double) * a.size);
  for (int64_t k = 0; k < n.nGather; k++) r[gi[k]] += g[k];
  if (acc) for (int64_t j = 0; j < a.size; j++) dst[j] += r[j];
}
void subsetJvp(const Tape& t, const Node& n, const double*, const double* const* dots, double* out, Scratch&) {
  const int32_t* gi = t.gather.data() + n.firstGather;
  for (int64_t k = 0; k < n.nGather; k++) out[k] = dots[0][gi[k]];
}
const char* subsetCheck(const Tape& t, const Node& n) {
  const Node& a = t.in(n, 0);
  if (n.nGather != n.size) return "subset: the gather table does not match the output";
  const int32_t* gi = t.gather.data() + n.firstGather;
  for (int64_t k = 0; k < n.nGather; k++)
    if (gi[k] < 0 || gi[k] >= a.size) return "subset: an index is out of range";
  return nullptr;
}

// ----- stack: equal-shaped items along a new first axis -----
void stackForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  double* out = arena + n.offset;
  for (int i = 0; i < n.nInputs; i++) {
    const Node& in = t.in(n, i);
    std::memcpy(out, arena + in.offset, sizeof(double) * in.size);
    out += in.size;
  }
}
void stackVjp(const Tape& t, const Node& n, const double*, const double* g, int i, double* dst, bool acc, Scratch&) {
  int64_t o = 0;
  for (int q = 0; q < i; q++) o += t.in(n, q).size;
  const int64_t len = t.in(n, i).size;
  for (int64_t k = 0; k < len; k++) dst[k] = acc ? dst[k] + g[o + k] : g[o + k];
}
void stackJvp(const Tape& t, const Node& n, const double*, const double* const* dots, double* out, Scratch&) {
  std::memset(out, 0, sizeof(double) * n.size);
  int64_t o = 0;
  for (int i = 0; i < n.nInputs; i++) {
    const int64_t len = t.in(n, i).size;
    if (dots[i]) std::memcpy(out + o, dots[i], sizeof(double) * len);
    o += len;
  }
}
const char* stackCheck(const Tape& t, const Node& n) {
  if (n.nInputs < 1) return "stack needs an item";
  int64_t total = 0;
  for (int i = 0; i < n.nInputs; i++) {
    if (t.in(n, i).size != t.in(n, 0).size) return "stack: the items have different shapes";
    total += t.in(n, i).size;
  }
  return total == n.size ? nullptr : "stack: bad output shape";
}

}  // namespace

void registerStructure(std::vector<OpEntry>& t) {
  // leaves carry their value in the arena already: the engine skips them
  for (const char* name : {"input", "const"}) {
    OpEntry e;
    e.name = name;
    e.leaf = true;
    t.push_back(e);
  }
  OpEntry subset;
  subset.name = "subset";
  subset.kernels[1] = {subsetForward, subsetVjp, subsetJvp, nullptr, subsetCheck};
  t.push_back(subset);
  OpEntry stack;
  stack.name = "stack";
  stack.kernels[0] = {stackForward, stackVjp, stackJvp, nullptr, stackCheck};
  t.push_back(stack);
}

}  // namespace ag
