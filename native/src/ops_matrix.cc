// Matrix functions (mirror of src/core/ops/matrix.ts): det, logdet, inv, adj, solve, forward
// only (their derivatives are graph rules of the TypeScript op table, run as more tape).
// Small matrices: one LU with partial pivoting in the TypeScript engine's exact order of
// operations, so both engines give the same numbers; the deadline is checked once per
// column. Larger ones (n ≥ LAPACK_FROM) go to the BLAS library's LAPACK (dgetrf/dgetrs,
// OpenBLAS has them) when it has one, up to the size whose factorization is one bounded
// call (LAPACK cannot look at the deadline); beyond that the built-in LU again.
#include <cmath>
#include <cstring>
#include <vector>

#include "deadline.h"
#include "gemm.h"
#include "ops.h"

namespace ag {
namespace {

/** LAPACK from this size up (below it the call costs more than it saves) … */
constexpr int64_t LAPACK_FROM = 64;
/** … up to this one: n³/3 multiply-adds ≈ BLAS_BLOCK, a call of ~0.1 s */
constexpr int64_t LAPACK_TO = 730;
using Dgetrf = void (*)(const int*, const int*, double*, const int*, int*, int*);
using Dgetrs = void (*)(const char*, const int*, const int*, const double*, const int*, const int*, double*, const int*, int*);

struct Lapack {
  Dgetrf getrf = nullptr;
  Dgetrs getrs = nullptr;
};
const Lapack& lapack() {
  static const Lapack l = [] {
    Lapack x;
    x.getrf = reinterpret_cast<Dgetrf>(blasSymbol("dgetrf_"));
    x.getrs = reinterpret_cast<Dgetrs>(blasSymbol("dgetrs_"));
    if (!x.getrf || !x.getrs) x.getrf = nullptr, x.getrs = nullptr;
    return x;
  }();
  return l;
}

struct Lu {
  /** by LAPACK: `lu` holds the factors of Aᵀ (A row-major read as column-major), `ipiv` its pivots */
  bool lapack = false;
  std::vector<int> ipiv;
  std::vector<double> lu;
  std::vector<int64_t> perm;
  double sign = 1;
  bool singular = false;
};

/** n×n matrix of a node: a scalar is 1×1. */
int64_t order(const Node& a) { return a.rank == 0 ? 1 : a.dims[0]; }

void factor(const double* a, int64_t n, Lu& f) {
  f.lu.assign(a, a + n * n);
  if (n >= LAPACK_FROM && n <= LAPACK_TO && lapack().getrf) {
    checkWork((double)n * n * n / 3);
    f.lapack = true;
    f.ipiv.resize(n);
    const int nn = (int)n;
    int info = 0;
    {
      const BlasOwnThreads threads;
      lapack().getrf(&nn, &nn, f.lu.data(), &nn, f.ipiv.data(), &info);
    }
    f.singular = info > 0;
    f.sign = 1;
    for (int64_t i = 0; i < n; i++)
      if (f.ipiv[i] != i + 1) f.sign = -f.sign;
    for (int64_t i = 0; i < n * n; i++)
      if (f.lu[i] != f.lu[i]) f.singular = true;
    return;
  }
  f.lapack = false;
  f.perm.resize(n);
  for (int64_t i = 0; i < n; i++) f.perm[i] = i;
  f.sign = 1;
  f.singular = false;
  double* lu = f.lu.data();
  for (int64_t k = 0; k < n; k++) {
    checkWork((double)(n - k) * (double)(n - k));
    int64_t p = k;
    double best = std::fabs(lu[k * n + k]);
    for (int64_t i = k + 1; i < n; i++) {
      const double v = std::fabs(lu[i * n + k]);
      if (v > best) best = v, p = i;
    }
    if (p != k) {
      for (int64_t j = 0; j < n; j++) std::swap(lu[k * n + j], lu[p * n + j]);
      std::swap(f.perm[k], f.perm[p]);
      f.sign = -f.sign;
    }
    const double pivot = lu[k * n + k];
    if (pivot == 0 || pivot != pivot) {
      f.singular = true;
      continue;
    }
    for (int64_t i = k + 1; i < n; i++) {
      const double l = (lu[i * n + k] /= pivot);
      if (l == 0) continue;
      for (int64_t j = k + 1; j < n; j++) lu[i * n + j] -= l * lu[k * n + j];
    }
  }
}

/** x (n×m) = A⁻¹ b from A's LU; NaN everywhere when A is singular. */
void solveLu(const Lu& f, int64_t n, const double* b, int64_t m, double* x) {
  if (f.singular) {
    for (int64_t j = 0; j < n * m; j++) x[j] = NAN;
    return;
  }
  if (f.lapack) {
    // Aᵀ = P L U is what was factored: A x = b is the transposed system ('T'); b column-major
    checkWork(2.0 * (double)n * (double)n * (double)m);
    std::vector<double> cm(n * m);
    for (int64_t i = 0; i < n; i++)
      for (int64_t c = 0; c < m; c++) cm[c * n + i] = b[i * m + c];
    const int nn = (int)n, mm = (int)m;
    int info = 0;
    const char trans = 'T';
    {
      const BlasOwnThreads threads;
      lapack().getrs(&trans, &nn, &mm, f.lu.data(), &nn, f.ipiv.data(), cm.data(), &nn, &info);
    }
    for (int64_t i = 0; i < n; i++)
      for (int64_t c = 0; c < m; c++) x[i * m + c] = cm[c * n + i];
    return;
  }
  const double* lu = f.lu.data();
  for (int64_t i = 0; i < n; i++)
    for (int64_t c = 0; c < m; c++) x[i * m + c] = b[f.perm[i] * m + c];
  checkWork(2.0 * (double)n * (double)n * (double)m);
  for (int64_t i = 0; i < n; i++)
    for (int64_t k = 0; k < i; k++) {
      const double l = lu[i * n + k];
      if (l != 0)
        for (int64_t c = 0; c < m; c++) x[i * m + c] -= l * x[k * m + c];
    }
  for (int64_t i = n - 1; i >= 0; i--) {
    for (int64_t k = i + 1; k < n; k++) {
      const double u = lu[i * n + k];
      if (u != 0)
        for (int64_t c = 0; c < m; c++) x[i * m + c] -= u * x[k * m + c];
    }
    const double d = lu[i * n + i];
    for (int64_t c = 0; c < m; c++) x[i * m + c] /= d;
  }
}

/** A⁻¹ into `out` (m×m) from A's LU: the identity solved for, in scratch (NaN everywhere when A is singular). */
void inverseLu(const Lu& f, int64_t m, Scratch& sc, double* out) {
  double* eye = sc.get(SCRATCH_K1, m * m);
  std::memset(eye, 0, sizeof(double) * m * m);
  for (int64_t i = 0; i < m; i++) eye[i * m + i] = 1;
  solveLu(f, m, eye, m, out);
}

/** det from an LU: the sign of the row swaps times U's diagonal (0 when singular). */
double detOf(const Lu& f, int64_t m) {
  if (f.singular) return 0;
  double d = f.sign;
  for (int64_t i = 0; i < m; i++) d *= f.lu[i * m + i];
  return d;
}

void detForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  const int64_t m = order(a);
  Lu f;
  factor(arena + a.offset, m, f);
  arena[n.offset] = detOf(f, m);
}

/** adj(A): det(A)·A⁻¹ where A is invertible; from the cofactors where it is not (n² determinants of order n−1). */
void adjForward(const Tape& t, const Node& n, double* arena, Scratch& sc) {
  const Node& a = t.in(n, 0);
  const int64_t m = order(a);
  const double* A = arena + a.offset;
  double* out = arena + n.offset;
  Lu f;
  factor(A, m, f);
  if (!f.singular) {
    inverseLu(f, m, sc, out);
    const double d = detOf(f, m);
    for (int64_t k = 0; k < m * m; k++) out[k] *= d;
    return;
  }
  if (m == 1) {
    out[0] = 1;
    return;
  }
  const int64_t r1 = m - 1;
  std::vector<double> minor(r1 * r1);
  Lu g;
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < m; j++) {
      int64_t k = 0;
      for (int64_t r = 0; r < m; r++) {
        if (r == i) continue;
        for (int64_t c = 0; c < m; c++)
          if (c != j) minor[k++] = A[r * m + c];
      }
      factor(minor.data(), r1, g);
      out[j * m + i] = ((i + j) % 2 ? -1.0 : 1.0) * detOf(g, r1);
    }
}

void logdetForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  const int64_t m = order(a);
  Lu f;
  factor(arena + a.offset, m, f);
  if (f.singular) {
    arena[n.offset] = -INFINITY;
    return;
  }
  double s = 0, sign = f.sign;
  for (int64_t i = 0; i < m; i++) {
    const double u = f.lu[i * m + i];
    if (u < 0) sign = -sign;
    s += std::log(std::fabs(u));
  }
  arena[n.offset] = sign < 0 ? NAN : s;
}

void invForward(const Tape& t, const Node& n, double* arena, Scratch& sc) {
  const Node& a = t.in(n, 0);
  const int64_t m = order(a);
  Lu f;
  factor(arena + a.offset, m, f);
  inverseLu(f, m, sc, arena + n.offset);
}

void solveForward(const Tape& t, const Node& n, double* arena, Scratch& sc) {
  const Node &a = t.in(n, 0), &b = t.in(n, 1);
  const int64_t m = order(a);
  const int64_t cols = b.rank == 2 ? b.dims[1] : 1;
  Lu f;
  factor(arena + a.offset, m, f);
  // b may be the output's own storage only if the tape shares it: it never does, but copy to be safe
  double* rhs = sc.get(SCRATCH_K1, m * cols);
  std::memcpy(rhs, arena + b.offset, sizeof(double) * m * cols);
  solveLu(f, m, rhs, cols, arena + n.offset);
}

const char* squareCheck(const Tape& t, const Node& n) {
  const Node& a = t.in(n, 0);
  return a.rank == 0 || (a.rank == 2 && a.dims[0] == a.dims[1]) ? nullptr : "needs a square matrix";
}
const char* scalarOutCheck(const Tape& t, const Node& n) {
  if (const char* why = squareCheck(t, n)) return why;
  return n.size == 1 ? nullptr : "bad output shape";
}
const char* invCheck(const Tape& t, const Node& n) {
  if (const char* why = squareCheck(t, n)) return why;
  return n.size == t.in(n, 0).size ? nullptr : "bad output shape";
}
const char* solveCheck(const Tape& t, const Node& n) {
  if (const char* why = squareCheck(t, n)) return why;
  const Node &a = t.in(n, 0), &b = t.in(n, 1);
  const int64_t rows = b.rank == 0 ? 1 : b.dims[0];
  if (rows != order(a)) return "b has the wrong number of rows";
  return n.size == b.size ? nullptr : "bad output shape";
}

Kernel forwardOnly(void (*forward)(const Tape&, const Node&, double*, Scratch&), const char* (*check)(const Tape&, const Node&)) {
  Kernel k;
  k.forward = forward;
  k.check = check;
  return k;
}

}  // namespace

void registerMatrix(std::vector<OpEntry>& t) {
  t.push_back(opEntry("det", 1, forwardOnly(detForward, scalarOutCheck)));
  t.push_back(opEntry("logdet", 1, forwardOnly(logdetForward, scalarOutCheck)));
  t.push_back(opEntry("inv", 1, forwardOnly(invForward, invCheck)));
  t.push_back(opEntry("adj", 1, forwardOnly(adjForward, invCheck)));
  t.push_back(opEntry("solve", 2, forwardOnly(solveForward, solveCheck)));
}

}  // namespace ag
