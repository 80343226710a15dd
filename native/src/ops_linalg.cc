// Linear algebra (mirror of src/ops/linalg.ts): matmul, transpose, dot, trace, diag.
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

/**
 * dst (=|+=) op(A)·op(B). An accumulating product is formed apart in scratch and then
 * added, as the reference does (contribution first, then a += c): gemm judges each
 * entry of the product on its own (IEEE special values, see gemm.cc dotExact).
 */
void product(int64_t m, int64_t n, int64_t k, const double* A, bool tA, const double* B, bool tB, double* dst, bool acc, Scratch& sc) {
  if (!acc) return gemm(m, n, k, A, tA, B, tB, dst, false);
  double* c = sc.get(SCRATCH_K1, m * n);
  gemm(m, n, k, A, tA, B, tB, c, false);
  for (int64_t j = 0; j < m * n; j++) dst[j] += c[j];
}

// ----- matmul: mathjs `*` between tensors -----
void matmulForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node &a = t.in(n, 0), &b = t.in(n, 1);
  const Dims d = dims(a, b);
  gemm(d.m, d.n, d.k, arena + a.offset, false, arena + b.offset, false, arena + n.offset, false);
}
// dA = G·Bᵀ, dB = Aᵀ·G
void matmulVjp(const Tape& t, const Node& n, const double* arena, const double* g, int i, double* dst, bool acc, Scratch& sc) {
  const Node &a = t.in(n, 0), &b = t.in(n, 1);
  const Dims d = dims(a, b);
  if (i == 0) product(d.m, d.k, d.n, g, false, arena + b.offset, true, dst, acc, sc);
  else product(d.k, d.n, d.m, arena + a.offset, true, g, false, dst, acc, sc);
}
void matmulJvp(const Tape& t, const Node& n, const double* arena, const double* const* dots, double* out, Scratch& sc) {
  const Node &a = t.in(n, 0), &b = t.in(n, 1);
  const Dims d = dims(a, b);
  std::memset(out, 0, sizeof(double) * n.size);
  if (dots[0]) product(d.m, d.n, d.k, dots[0], false, arena + b.offset, false, out, true, sc);
  if (dots[1]) product(d.m, d.n, d.k, arena + a.offset, false, dots[1], false, out, true, sc);
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
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) dst[j * m + i] = src[i * n + j];
}
void transposeForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  transposeInto(a, arena + a.offset, arena + n.offset);
}
void transposeVjp(const Tape&, const Node& n, const double*, const double* g, int, double* dst, bool acc, Scratch& sc) {
  double* r = acc ? sc.get(SCRATCH_K1, n.size) : dst;
  transposeInto(n, g, r);  // the output's transpose is the input's shape
  if (acc) for (int64_t j = 0; j < n.size; j++) dst[j] += r[j];
}
void transposeJvp(const Tape& t, const Node& n, const double*, const double* const* dots, double* out, Scratch&) {
  transposeInto(t.in(n, 0), dots[0], out);
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
void dotVjp(const Tape& t, const Node& n, const double* arena, const double* g, int i, double* dst, bool acc, Scratch&) {
  const Node& other = t.in(n, 1 - i);
  const double* o = arena + other.offset;
  for (int64_t k = 0; k < other.size; k++) {
    const double c = o[k] * g[0];
    dst[k] = acc ? dst[k] + c : c;
  }
}
void dotJvp(const Tape& t, const Node& n, const double* arena, const double* const* dots, double* out, Scratch&) {
  const Node &a = t.in(n, 0), &b = t.in(n, 1);
  const double *x = arena + a.offset, *y = arena + b.offset;
  double s = 0;
  for (int64_t k = 0; k < a.size; k++) s += (dots[0] ? dots[0][k] * y[k] : 0) + (dots[1] ? x[k] * dots[1][k] : 0);
  out[0] = s;
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
void traceVjp(const Tape& t, const Node& n, const double*, const double* g, int, double* dst, bool acc, Scratch&) {
  const Node& a = t.in(n, 0);
  const int64_t m = a.dims[0];
  if (!acc) std::memset(dst, 0, sizeof(double) * a.size);
  for (int64_t i = 0; i < m; i++) dst[i * m + i] += g[0];
  (void)n;
}
void traceJvp(const Tape& t, const Node& n, const double*, const double* const* dots, double* out, Scratch&) {
  const Node& a = t.in(n, 0);
  const int64_t m = a.dims[0];
  double s = 0;
  for (int64_t i = 0; i < m; i++) s += dots[0][i * m + i];
  out[0] = s;
  (void)n;
}
const char* traceCheck(const Tape& t, const Node& n) {
  const Node& a = t.in(n, 0);
  return a.rank == 2 && a.dims[0] == a.dims[1] && n.size == 1 ? nullptr : "trace needs a square matrix";
}

// ----- diag: diag(v) builds a diagonal matrix; diag(A) reads the main diagonal -----
/** diag(v) → matrix, or diag(A) → vector, from `src` (values or tangents) into `out`. */
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
void diagVjp(const Tape& t, const Node& n, const double*, const double* g, int, double* dst, bool acc, Scratch&) {
  const Node& a = t.in(n, 0);
  if (a.rank == 1) {
    const int64_t m = a.dims[0];
    for (int64_t i = 0; i < m; i++) dst[i] = acc ? dst[i] + g[i * m + i] : g[i * m + i];
  } else {
    if (!acc) std::memset(dst, 0, sizeof(double) * a.size);
    for (int64_t i = 0; i < n.size; i++) dst[i * a.dims[1] + i] += g[i];
  }
}
void diagJvp(const Tape& t, const Node& n, const double*, const double* const* dots, double* out, Scratch&) {
  diagInto(t.in(n, 0), n, dots[0], out);
}
const char* diagCheck(const Tape& t, const Node& n) {
  const Node& a = t.in(n, 0);
  if (a.rank == 1) return n.rank == 2 && n.dims[0] == a.dims[0] && n.dims[1] == a.dims[0] ? nullptr : "diag: bad shape";
  if (a.rank == 2) return n.rank == 1 && n.dims[0] == std::min(a.dims[0], a.dims[1]) ? nullptr : "diag: bad shape";
  return "diag needs a vector or a matrix";
}

}  // namespace

void registerLinalg(std::vector<OpEntry>& t) {
  t.push_back(opEntry("matmul", 2, {matmulForward, matmulVjp, matmulJvp, nullptr, matmulCheck}));
  t.push_back(opEntry("transpose", 1, {transposeForward, transposeVjp, transposeJvp, nullptr, transposeCheck}));
  t.push_back(opEntry("dot", 2, {dotForward, dotVjp, dotJvp, nullptr, dotCheck}));
  t.push_back(opEntry("trace", 1, {traceForward, traceVjp, traceJvp, nullptr, traceCheck}));
  t.push_back(opEntry("diag", 1, {diagForward, diagVjp, diagJvp, nullptr, diagCheck}));
}

}  // namespace ag
