// Linear algebra (mirror of src/core/ops/linalg.ts): matmul, transpose, dot, trace, diag.
#include <algorithm>
#include <cstring>

#include "gemm.h"
#include "ops.h"

namespace ag {
namespace {

/**
 * How `*` reads two tensors as matrices A [m,k] · B [k,n] (src/ops/linalg.ts matmulDims):
 * [m,k]·[k,n] → [m,n]; [m,k]·[k] → [m] (a column; [1,k]·[k] → scalar); [k]·[k] → dot;
 * [k]·[k,n] → [n] (the vector as a row, mathjs); [m]·[1,n] → [m,n] (the vector as a
 * column: an outer product). A vector's data is that of [m,1] and of [1,m] alike.
 */
struct Dims {
  int64_t m, k, n;
  int64_t k2;  // B's leading dimension as read: must equal k
};
Dims dims(const Node& a, const Node& b) {
  Dims d;
  if (a.rank == 1 && b.rank == 2 && b.dims[0] == 1 && a.dims[0] != 1) {
    d.m = a.dims[0], d.k = 1, d.k2 = 1, d.n = b.dims[1];
    return d;
  }
  if (a.rank == 2) d.m = a.dims[0], d.k = a.dims[1];
  else d.m = 1, d.k = a.dims[0];
  d.k2 = b.dims[0];
  d.n = b.rank == 2 ? b.dims[1] : 1;
  return d;
}

// ----- matmul: mathjs `*` between tensors -----
// An argument that is a transpose is read from the transpose's input, with gemm's
// transpose flag (Node::operand, set by finishTape): the transpose need not be computed.
void matmulForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node &a = t.in(n, 0), &b = t.in(n, 1);
  const Dims d = dims(a, b);
  const double* A = arena + (n.operand[0] >= 0 ? t.nodes[n.operand[0]].offset : a.offset);
  const double* B = arena + (n.operand[1] >= 0 ? t.nodes[n.operand[1]].offset : b.offset);
  gemm(d.m, d.n, d.k, A, n.transposed[0], B, n.transposed[1], arena + n.offset);
}
const char* matmulCheck(const Tape& t, const Node& n) {
  const Node &a = t.in(n, 0), &b = t.in(n, 1);
  if (a.rank == 0 || b.rank == 0) return "matmul needs two tensors";
  const Dims d = dims(a, b);
  if (d.k != d.k2 || d.m * d.n != n.size) return "matmul: inner dimensions differ";
  return nullptr;
}

// ----- transpose -----
// a vector [n] (a column) becomes the row [1,n]; a vector's data reads the same either way
void transposeInto(const Node& shape, const double* src, double* dst) {
  if (shape.rank < 2 || shape.dims[0] == 1 || shape.dims[1] == 1) {
    std::memcpy(dst, src, sizeof(double) * shape.size);
    return;
  }
  const int64_t m = shape.dims[0], n = shape.dims[1];
  // in tiles, so the rows read and the rows written both stay in cache (a plain double
  // loop touches a new cache line with every entry it writes)
  constexpr int64_t TILE = 32;
  for (int64_t i0 = 0; i0 < m; i0 += TILE)
    for (int64_t j0 = 0; j0 < n; j0 += TILE) {
      const int64_t i1 = std::min(m, i0 + TILE), j1 = std::min(n, j0 + TILE);
      for (int64_t i = i0; i < i1; i++)
        for (int64_t j = j0; j < j1; j++) dst[j * m + i] = src[i * n + j];
    }
}
void transposeForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  transposeInto(a, arena + a.offset, arena + n.offset);
}

const char* transposeCheck(const Tape& t, const Node& n) {
  const Node& a = t.in(n, 0);
  if (a.size != n.size) return "transpose: bad output shape";
  if (a.rank == 0) return n.rank == 0 ? nullptr : "transpose: bad output shape";
  if (a.rank == 1) return n.rank == 2 && n.dims[0] == 1 && n.dims[1] == a.dims[0] ? nullptr : "transpose: bad output shape";
  return n.rank == 2 && a.dims[0] == n.dims[1] && a.dims[1] == n.dims[0] ? nullptr : "transpose: bad output shape";
}

// ----- dot -----
void dotForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node &a = t.in(n, 0), &b = t.in(n, 1);
  const double *x = arena + a.offset, *y = arena + b.offset;
  double s = 0;
  for (int64_t k = 0; k < a.size; k++) s += x[k] * y[k];
  arena[n.offset] = s;
}
const char* dotCheck(const Tape& t, const Node& n) {
  const Node &a = t.in(n, 0), &b = t.in(n, 1);
  return a.rank == 1 && b.rank == 1 && a.size == b.size && n.size == 1 ? nullptr : "dot needs two vectors of the same length";
}

// ----- trace -----
void traceForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  const double* x = arena + a.offset;
  const int64_t m = a.dims[0];
  double s = 0;
  for (int64_t i = 0; i < m; i++) s += x[i * m + i];
  arena[n.offset] = s;
}
const char* traceCheck(const Tape& t, const Node& n) {
  const Node& a = t.in(n, 0);
  return a.rank == 2 && a.dims[0] == a.dims[1] && n.size == 1 ? nullptr : "trace needs a square matrix";
}

// ----- diag: diag(v) builds a diagonal matrix; diag(A) reads the main diagonal -----
/** diag(v) → matrix, or diag(A) → vector, from `src` into `out`. */
void diagInto(const Node& a, const Node& n, const double* src, double* out) {
  if (a.rank == 1) {
    const int64_t m = a.dims[0];
    std::memset(out, 0, sizeof(double) * n.size);
    for (int64_t i = 0; i < m; i++) out[i * m + i] = src[i];
  } else {
    for (int64_t i = 0; i < n.size; i++) out[i] = src[i * a.dims[1] + i];
  }
}
void diagForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  diagInto(a, n, arena + a.offset, arena + n.offset);
}
const char* diagCheck(const Tape& t, const Node& n) {
  const Node& a = t.in(n, 0);
  if (a.rank == 1) return n.rank == 2 && n.dims[0] == a.dims[0] && n.dims[1] == a.dims[0] ? nullptr : "diag: bad shape";
  if (a.rank == 2) return n.rank == 1 && n.dims[0] == std::min(a.dims[0], a.dims[1]) ? nullptr : "diag: bad shape";
  return "diag needs a vector or a matrix";
}

}  // namespace

void registerLinalg(std::vector<OpEntry>& t) {
  t.push_back(opEntry("matmul", 2, {matmulForward, nullptr, matmulCheck}));
  t.push_back(opEntry("transpose", 1, {transposeForward, nullptr, transposeCheck}));
  t.push_back(opEntry("dot", 2, {dotForward, nullptr, dotCheck}));
  t.push_back(opEntry("trace", 1, {traceForward, nullptr, traceCheck}));
  t.push_back(opEntry("diag", 1, {diagForward, nullptr, diagCheck}));
}

}  // namespace ag
