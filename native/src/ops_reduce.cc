// Reductions (mirror of src/ops/reduce.ts). sum/mean/prod take an optional axis of a
// matrix; maxAll/minAll and norm reduce every entry.
#include <cmath>
#include <cstring>

#include "ops.h"

namespace ag {
namespace {

/** For axis reductions of a matrix: the output entry each input entry goes into. */
struct ReduceMap {
  int axis;     // -1: everything into entry 0
  int64_t cols;
  int64_t of(int64_t k) const { return axis < 0 ? 0 : axis == 0 ? k % cols : k / cols; }
};
ReduceMap reduceMap(const Node& a, const Node& n) {
  if (n.axis < 0 || a.rank < 2) return {-1, 1};
  return {n.axis, a.dims[1]};
}

/** out[of(k)] += vals[k], in entry order (as `collect`). */
void collect(const ReduceMap& r, const double* vals, int64_t len, double* out, int64_t outLen) {
  std::memset(out, 0, sizeof(double) * outLen);
  for (int64_t k = 0; k < len; k++) out[r.of(k)] += vals[k];
}

// ----- sum -----
void sumForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  collect(reduceMap(a, n), arena + a.offset, a.size, arena + n.offset, n.size);
}
/** Each input entry gets the upstream gradient of the output entry it went into, times w. */
void spread(const ReduceMap& r, const double* g, int64_t len, double w, double* dst, bool acc) {
  for (int64_t k = 0; k < len; k++) {
    const double c = g[r.of(k)] * w;
    dst[k] = acc ? dst[k] + c : c;
  }
}
void sumVjp(const Tape& t, const Node& n, const double*, const double* g, int, double* dst, bool acc, Scratch&) {
  const Node& a = t.in(n, 0);
  spread(reduceMap(a, n), g, a.size, 1, dst, acc);
}
void sumJvp(const Tape& t, const Node& n, const double*, const double* const* dots, double* out, Scratch&) {
  const Node& a = t.in(n, 0);
  collect(reduceMap(a, n), dots[0], a.size, out, n.size);
}

// ----- mean -----
void meanForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  double* out = arena + n.offset;
  const double c = (double)a.size / (double)n.size;
  collect(reduceMap(a, n), arena + a.offset, a.size, out, n.size);
  for (int64_t i = 0; i < n.size; i++) out[i] /= c;
}
void meanVjp(const Tape& t, const Node& n, const double*, const double* g, int, double* dst, bool acc, Scratch&) {
  const Node& a = t.in(n, 0);
  const double c = (double)a.size / (double)n.size;
  spread(reduceMap(a, n), g, a.size, 1 / c, dst, acc);
}
void meanJvp(const Tape& t, const Node& n, const double*, const double* const* dots, double* out, Scratch&) {
  const Node& a = t.in(n, 0);
  const double c = (double)a.size / (double)n.size;
  collect(reduceMap(a, n), dots[0], a.size, out, n.size);
  for (int64_t i = 0; i < n.size; i++) out[i] /= c;
}

// ----- prod -----
void prodForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  const ReduceMap r = reduceMap(a, n);
  const double* x = arena + a.offset;
  double* out = arena + n.offset;
  for (int64_t i = 0; i < n.size; i++) out[i] = 1;
  for (int64_t k = 0; k < a.size; k++) out[r.of(k)] *= x[k];
}
/**
 * Product of all entries of k's group but k, without dividing (exact when entries are
 * zero): prefix · suffix in O(n), where the reference multiplies the others in order
 * in O(n²). The association differs, so agreement is to a few ulps per entry.
 */
void prodExcept(const Node& a, const ReduceMap& r, const double* x, double* p, Scratch& sc) {
  // groups: everything (axis -1), a column (axis 0: stride cols), a row (axis 1: stride 1)
  int64_t groups, len, stride, step;
  if (r.axis < 0) groups = 1, len = a.size, stride = 1, step = 0;
  else if (r.axis == 0) groups = a.dims[1], len = a.dims[0], stride = a.dims[1], step = 1;
  else groups = a.dims[0], len = a.dims[1], stride = 1, step = a.dims[1];
  double* suffix = sc.get(SCRATCH_K2, len + 1);
  for (int64_t gi = 0; gi < groups; gi++) {
    const int64_t base = gi * step;
    suffix[len] = 1;
    for (int64_t q = len - 1; q >= 0; q--) suffix[q] = q == len - 1 ? x[base + q * stride] : x[base + q * stride] * suffix[q + 1];
    double prefix = 1;
    for (int64_t q = 0; q < len; q++) {
      const int64_t k = base + q * stride;
      p[k] = q == 0 ? suffix[1] : q == len - 1 ? prefix : prefix * suffix[q + 1];
      prefix = q == 0 ? x[k] : prefix * x[k];
    }
  }
}
void prodVjp(const Tape& t, const Node& n, const double* arena, const double* g, int, double* dst, bool acc, Scratch& sc) {
  const Node& a = t.in(n, 0);
  const ReduceMap r = reduceMap(a, n);
  double* p = sc.get(SCRATCH_K1, a.size);
  prodExcept(a, r, arena + a.offset, p, sc);
  for (int64_t k = 0; k < a.size; k++) {
    const double c = g[r.of(k)] * p[k];
    dst[k] = acc ? dst[k] + c : c;
  }
}
void prodJvp(const Tape& t, const Node& n, const double* arena, const double* const* dots, double* out, Scratch& sc) {
  const Node& a = t.in(n, 0);
  const ReduceMap r = reduceMap(a, n);
  double* p = sc.get(SCRATCH_K1, a.size);
  prodExcept(a, r, arena + a.offset, p, sc);
  for (int64_t k = 0; k < a.size; k++) p[k] *= dots[0][k];
  collect(r, p, a.size, out, n.size);
}
const char* axisCheck(const Tape& t, const Node& n) {
  const Node& a = t.in(n, 0);
  if (n.axis >= 0 && a.rank < 2) return "a dimension can only be given for a matrix";
  if (n.axis > 1) return "axis out of range";
  const int64_t want = n.axis < 0 || a.rank < 2 ? 1 : n.axis == 0 ? a.dims[1] : a.dims[0];
  return n.size == want ? nullptr : "reduction: bad output shape";
}

// ----- maxAll / minAll: the gradient goes to the winning entry; ties split it evenly -----
template <bool IsMax>
struct Extremum {
  static bool better(double x, double y) { return IsMax ? x > y : x < y; }
  static void forward(const Tape& t, const Node& n, double* arena, Scratch&) {
    const Node& a = t.in(n, 0);
    const double* x = arena + a.offset;
    double s = x[0];
    for (int64_t k = 1; k < a.size; k++)
      if (better(x[k], s) || x[k] != x[k]) s = x[k];
    arena[n.offset] = s;
  }
  /** winners w[k] = 1/c where x[k] == s (c winners; NaN everywhere when none, as 0/0 in JS) */
  static double winnerCount(const double* x, int64_t len, double s) {
    double c = 0;
    for (int64_t k = 0; k < len; k++)
      if (x[k] == s) c++;
    return c;
  }
  static void vjp(const Tape& t, const Node& n, const double* arena, const double* g, int, double* dst, bool acc, Scratch&) {
    const Node& a = t.in(n, 0);
    const double* x = arena + a.offset;
    const double s = arena[n.offset];
    const double c = winnerCount(x, a.size, s);
    for (int64_t k = 0; k < a.size; k++) {
      const double v = ((x[k] == s ? 1.0 : 0.0) / c) * g[0];
      dst[k] = acc ? dst[k] + v : v;
    }
  }
  static void jvp(const Tape& t, const Node& n, const double* arena, const double* const* dots, double* out, Scratch&) {
    const Node& a = t.in(n, 0);
    const double* x = arena + a.offset;
    const double s = arena[n.offset];
    const double c = winnerCount(x, a.size, s);
    double tan = 0;
    for (int64_t k = 0; k < a.size; k++) {
      const double w = (x[k] == s ? 1.0 : 0.0) / c;
      if (w != 0 && w == w) tan += w * dots[0][k];  // JS `if (w[k])`: 0 and NaN weights add nothing
    }
    out[0] = tan;
  }
  // which entries win: a tie, or a step that changes the winner, shows up here
  static double branch(const Tape& t, const Node& n, const double* arena) {
    const Node& a = t.in(n, 0);
    const double* x = arena + a.offset;
    double s = x[0];
    for (int64_t k = 1; k < a.size; k++)
      if (better(x[k], s)) s = x[k];
    double code = 0;
    for (int64_t k = 0; k < a.size; k++)
      if (x[k] == s) code += branchWeight(k);
    return code;
  }
};

// ----- norm: 1, 2 (and 'fro'), Infinity -----
constexpr double NEAR_ZERO = 1e-3;

void normForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  const double* d = arena + a.offset;
  double r = 0;
  if (n.ord == 1) for (int64_t k = 0; k < a.size; k++) r += std::fabs(d[k]);
  else if (n.ord == 3) for (int64_t k = 0; k < a.size; k++) r = jsMax(r, std::fabs(d[k]));
  else {
    for (int64_t k = 0; k < a.size; k++) r += d[k] * d[k];
    r = std::sqrt(r);
  }
  arena[n.offset] = r;
}
/** ∂‖a‖/∂a_k; at a = 0 the subgradient 0, as PyTorch. */
void normPartials(const Node& n, const double* d, int64_t len, double s, double* p) {
  if (n.ord == 1) {
    for (int64_t k = 0; k < len; k++) p[k] = jsSign(d[k]);
  } else if (n.ord == 3) {
    double c = 0;
    for (int64_t k = 0; k < len; k++)
      if (std::fabs(d[k]) == s) c++;
    for (int64_t k = 0; k < len; k++) p[k] = std::fabs(d[k]) == s && s != 0 ? jsSign(d[k]) / c : 0;
  } else {
    for (int64_t k = 0; k < len; k++) p[k] = s == 0 ? 0 : d[k] / s;
  }
}
void normVjp(const Tape& t, const Node& n, const double* arena, const double* g, int, double* dst, bool acc, Scratch& sc) {
  const Node& a = t.in(n, 0);
  double* p = sc.get(SCRATCH_K1, a.size);
  normPartials(n, arena + a.offset, a.size, arena[n.offset], p);
  for (int64_t k = 0; k < a.size; k++) {
    const double c = p[k] * g[0];
    dst[k] = acc ? dst[k] + c : c;
  }
}
void normJvp(const Tape& t, const Node& n, const double* arena, const double* const* dots, double* out, Scratch& sc) {
  const Node& a = t.in(n, 0);
  double* p = sc.get(SCRATCH_K1, a.size);
  normPartials(n, arena + a.offset, a.size, arena[n.offset], p);
  double tan = 0;
  for (int64_t k = 0; k < a.size; k++) tan += p[k] * dots[0][k];
  out[0] = tan;
}
double normBranch(const Tape& t, const Node& n, const double* arena) {
  const Node& a = t.in(n, 0);
  const double* d = arena + a.offset;
  double code = 0;
  if (n.ord == 3) {
    double m = 0;
    for (int64_t k = 0; k < a.size; k++) m = jsMax(m, std::fabs(d[k]));
    for (int64_t k = 0; k < a.size; k++)
      if (std::fabs(d[k]) == m) code += branchWeight(k) * (d[k] > 0 ? 2 : 1);
    return code;
  }
  // the 1-norm bends wherever an entry crosses 0; the 2-norm only at the origin, so there
  // the signs of the entries tell a step that passes near it
  bool near = true;
  for (int64_t k = 0; k < a.size; k++)
    if (std::fabs(d[k]) > NEAR_ZERO) near = false;
  if (n.ord != 1 && !near) return 0;
  for (int64_t k = 0; k < a.size; k++) code += (jsSign(d[k]) + 2) * branchWeight(k);
  return code;
}
const char* scalarOut(const Tape& t, const Node& n) {
  return n.size == 1 && t.in(n, 0).size >= 1 ? nullptr : "the result must be a scalar of a non-empty tensor";
}

}  // namespace

void registerReduce(std::vector<OpEntry>& t) {
  t.push_back(opEntry("sum", 1, {sumForward, sumVjp, sumJvp, nullptr, axisCheck}));
  t.push_back(opEntry("mean", 1, {meanForward, meanVjp, meanJvp, nullptr, axisCheck}));
  t.push_back(opEntry("prod", 1, {prodForward, prodVjp, prodJvp, nullptr, axisCheck}));
  using Max = Extremum<true>;
  using Min = Extremum<false>;
  t.push_back(opEntry("maxAll", 1, {Max::forward, Max::vjp, Max::jvp, Max::branch, scalarOut}, true));
  t.push_back(opEntry("minAll", 1, {Min::forward, Min::vjp, Min::jvp, Min::branch, scalarOut}, true));
  t.push_back(opEntry("norm", 1, {normForward, normVjp, normJvp, normBranch, scalarOut}, true));
}

}  // namespace ag
