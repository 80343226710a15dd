// Leaves, indexing and array literals (mirror of src/core/ops/structure.ts).
#include <cstring>

#include "ops.h"

namespace ag {
namespace {

// ----- subset: output entry k reads input entry gather[k] -----
void subsetForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const double* a = arena + t.in(n, 0).offset;
  const int32_t* gi = t.gather.data() + n.firstGather;
  double* out = arena + n.offset;
  for (int64_t k = 0; k < n.nGather; k++) out[k] = a[gi[k]];
}
const char* subsetCheck(const Tape& t, const Node& n) {
  const Node& a = t.in(n, 0);
  if (n.nGather != n.size) return "subset: the gather table does not match the output";
  const int32_t* gi = t.gather.data() + n.firstGather;
  for (int64_t k = 0; k < n.nGather; k++)
    if (gi[k] < 0 || gi[k] >= a.size) return "subset: an index is out of range";
  return nullptr;
}

// ----- scatter: input entry k is added into output entry gather[k] (subset's reverse) -----
void scatterForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  const double* x = arena + a.offset;
  const int32_t* gi = t.gather.data() + n.firstGather;
  double* out = arena + n.offset;
  std::memset(out, 0, sizeof(double) * n.size);
  // repeated indices add up, in entry order (as the TypeScript kernel)
  for (int64_t k = 0; k < n.nGather; k++) out[gi[k]] += x[k];
}
const char* scatterCheck(const Tape& t, const Node& n) {
  if (n.nGather != t.in(n, 0).size) return "scatter: the index table does not match the input";
  const int32_t* gi = t.gather.data() + n.firstGather;
  for (int64_t k = 0; k < n.nGather; k++)
    if (gi[k] < 0 || gi[k] >= n.size) return "scatter: an index is out of range";
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
  subset.kernels[1] = {subsetForward, nullptr, subsetCheck};
  t.push_back(subset);
  t.push_back(opEntry("scatter", 1, {scatterForward, nullptr, scatterCheck}));
  OpEntry stack;
  stack.name = "stack";
  stack.kernels[0] = {stackForward, nullptr, stackCheck};
  t.push_back(stack);
}

}  // namespace ag
