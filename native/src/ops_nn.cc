// softmax, logsoftmax and logsumexp along the last axis (mirror of src/ops/nn.ts):
// over a vector, or over each row of a matrix. All are shifted by the row maximum.
#include <cmath>
#include <cstring>

#include "ops.h"

namespace ag {
namespace {

void rows(const Node& a, int64_t& r, int64_t& c) {
  if (a.rank == 2) r = a.dims[0], c = a.dims[1];
  else r = 1, c = a.rank == 1 ? a.dims[0] : 1;
}

/** log Σ exp of row i. */
double rowLse(const double* a, int64_t c) {
  double m = -INFINITY;
  for (int64_t j = 0; j < c; j++) m = jsMax(m, a[j]);
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (int64_t j = 0; j < c; j++) s += std::exp(a[j] - m);
  return m + std::log(s);
}

void softmaxOf(const double* a, int64_t r, int64_t c, double* s) {
  for (int64_t i = 0; i < r; i++) {
    const double lse = rowLse(a + i * c, c);
    for (int64_t j = 0; j < c; j++) s[i * c + j] = std::exp(a[i * c + j] - lse);
  }
}

/** Σ_j g_j·w_j of one row (w = nullptr: Σ_j g_j). */
double rowSum(const double* g, const double* w, int64_t c) {
  double s = 0;
  for (int64_t j = 0; j < c; j++) s += g[j] * (w ? w[j] : 1);
  return s;
}

// ----- softmax -----
void softmaxForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  int64_t r, c;
  rows(a, r, c);
  softmaxOf(arena + a.offset, r, c, arena + n.offset);
}
// ∂L/∂a = s ⊙ (g − Σ g⊙s)
void softmaxVjp(const Tape& t, const Node& n, const double* arena, const double* g, int, double* dst, bool acc, Scratch&) {
  int64_t r, c;
  rows(t.in(n, 0), r, c);
  const double* s = arena + n.offset;
  for (int64_t i = 0; i < r; i++) {
    const double gs = rowSum(g + i * c, s + i * c, c);
    for (int64_t j = 0; j < c; j++) {
      const int64_t k = i * c + j;
      const double v = s[k] * (g[k] - gs);
      dst[k] = acc ? dst[k] + v : v;
    }
  }
}
void softmaxJvp(const Tape& t, const Node& n, const double* arena, const double* const* dots, double* out, Scratch&) {
  int64_t r, c;
  rows(t.in(n, 0), r, c);
  const double *s = arena + n.offset, *da = dots[0];
  for (int64_t i = 0; i < r; i++) {
    const double ds = rowSum(da + i * c, s + i * c, c);
    for (int64_t j = 0; j < c; j++) out[i * c + j] = s[i * c + j] * (da[i * c + j] - ds);
  }
}

// ----- logsoftmax -----
void logsoftmaxForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  int64_t r, c;
  rows(a, r, c);
  const double* x = arena + a.offset;
  double* out = arena + n.offset;
  for (int64_t i = 0; i < r; i++) {
    const double lse = rowLse(x + i * c, c);
    for (int64_t j = 0; j < c; j++) out[i * c + j] = x[i * c + j] - lse;
  }
}
// ∂L/∂a = g − softmax(a)·Σ g
void logsoftmaxVjp(const Tape& t, const Node& n, const double* arena, const double* g, int, double* dst, bool acc, Scratch&) {
  int64_t r, c;
  rows(t.in(n, 0), r, c);
  const double* o = arena + n.offset;
  for (int64_t i = 0; i < r; i++) {
    const double gsum = rowSum(g + i * c, nullptr, c);
    for (int64_t j = 0; j < c; j++) {
      const int64_t k = i * c + j;
      const double v = g[k] - std::exp(o[k]) * gsum;
      dst[k] = acc ? dst[k] + v : v;
    }
  }
}
void logsoftmaxJvp(const Tape& t, const Node& n, const double* arena, const double* const* dots, double* out, Scratch& sc) {
  int64_t r, c;
  rows(t.in(n, 0), r, c);
  const double *o = arena + n.offset, *da = dots[0];
  double* sm = sc.get(SCRATCH_K1, n.size);
  for (int64_t k = 0; k < n.size; k++) sm[k] = std::exp(o[k]);
  for (int64_t i = 0; i < r; i++) {
    const double ds = rowSum(da + i * c, sm + i * c, c);
    for (int64_t j = 0; j < c; j++) out[i * c + j] = da[i * c + j] - ds;
  }
}

// ----- logsumexp -----
void logsumexpForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  int64_t r, c;
  rows(a, r, c);
  for (int64_t i = 0; i < r; i++) arena[n.offset + i] = rowLse(arena + a.offset + i * c, c);
}
// ∂/∂a = softmax(a)
void logsumexpVjp(const Tape& t, const Node& n, const double* arena, const double* g, int, double* dst, bool acc, Scratch& sc) {
  const Node& a = t.in(n, 0);
  int64_t r, c;
  rows(a, r, c);
  double* sm = sc.get(SCRATCH_K1, a.size);
  softmaxOf(arena + a.offset, r, c, sm);
  for (int64_t k = 0; k < a.size; k++) {
    const double v = sm[k] * g[k / c];
    dst[k] = acc ? dst[k] + v : v;
  }
}
void logsumexpJvp(const Tape& t, const Node& n, const double* arena, const double* const* dots, double* out, Scratch& sc) {
  const Node& a = t.in(n, 0);
  int64_t r, c;
  rows(a, r, c);
  double* sm = sc.get(SCRATCH_K1, a.size);
  softmaxOf(arena + a.offset, r, c, sm);
  for (int64_t i = 0; i < r; i++) out[i] = rowSum(dots[0] + i * c, sm + i * c, c);
}

const char* sameSize(const Tape& t, const Node& n) {
  const Node& a = t.in(n, 0);
  return a.rank >= 1 && a.size == n.size ? nullptr : "needs a vector or a matrix, not a scalar";
}
const char* rowsOut(const Tape& t, const Node& n) {
  const Node& a = t.in(n, 0);
  return a.rank >= 1 && n.size == (a.rank == 2 ? a.dims[0] : 1) ? nullptr : "needs a vector or a matrix, not a scalar";
}

}  // namespace

void registerNn(std::vector<OpEntry>& t) {
  t.push_back(opEntry("softmax", 1, {softmaxForward, softmaxVjp, softmaxJvp, nullptr, sameSize}));
  t.push_back(opEntry("logsoftmax", 1, {logsoftmaxForward, logsoftmaxVjp, logsoftmaxJvp, nullptr, sameSize}));
  t.push_back(opEntry("logsumexp", 1, {logsumexpForward, logsumexpVjp, logsumexpJvp, nullptr, rowsOut}));
}

}  // namespace ag
