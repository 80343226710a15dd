// Broadcasting, written once for every elementwise op (src/ops/broadcast.ts and
// tensor.ts broadcastIndex): output entry (i, j) of an R×C result reads input
// entry i·rs + j·cs. The same strides sum a contribution back onto the input
// (unbroadcast), in the same entry order as the TypeScript engine.
#pragma once

#include "tape.h"

namespace ag {

struct Operand {
  const double* p;
  int64_t rs, cs;
  double at(int64_t i, int64_t j) const { return p[i * rs + j * cs]; }
};

/** Strides of input `in` broadcast to output `out` (NumPy rules, trailing dimensions aligned). */
inline void strides(const Node& in, const Node& out, int64_t& rs, int64_t& cs) {
  int64_t R, C;
  rowsCols(out, R, C);
  if (in.size == out.size) {  // same size: entry k is k, whatever the shapes say (as JS)
    rs = C, cs = 1;
    return;
  }
  if (in.size == 1) {
    rs = cs = 0;
    return;
  }
  // pad the input's shape on the left to the output's rank
  int64_t r = 1, c = 1;
  if (in.rank == 2) r = in.dims[0], c = in.dims[1];
  else if (in.rank == 1) c = in.dims[0];
  rs = r == 1 ? 0 : c;
  cs = c == 1 ? 0 : 1;
}

/** Is `in` broadcastable to `out`? (The TS builder checked; this keeps the kernels memory-safe.) */
inline bool broadcastsTo(const Node& in, const Node& out) {
  if (in.size == out.size || in.size == 1) return true;
  if (in.rank > out.rank) return false;
  int64_t R, C, r = 1, c = 1;
  rowsCols(out, R, C);
  if (in.rank == 2) r = in.dims[0], c = in.dims[1];
  else if (in.rank == 1) c = in.dims[0];
  return (r == 1 || r == R) && (c == 1 || c == C);
}

}  // namespace ag
