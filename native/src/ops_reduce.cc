// Reductions (mirror of src/core/ops/reduce.ts). Each takes an optional axis of a matrix
// (the dimension kept); without one it reduces every entry.
#include <cmath>
#include <cstring>
#include <vector>

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
// ----- mean -----
void meanForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  double* out = arena + n.offset;
  const double c = (double)a.size / (double)n.size;
  collect(reduceMap(a, n), arena + a.offset, a.size, out, n.size);
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
const char* axisCheck(const Tape& t, const Node& n) {
  const Node& a = t.in(n, 0);
  if (n.axis >= 0 && a.rank < 2) return "a dimension can only be given for a matrix";
  if (n.axis > 1) return "axis out of range";
  const int64_t want = n.axis < 0 || a.rank < 2 ? 1 : n.axis == 0 ? a.dims[1] : a.dims[0];
  return n.size == want ? nullptr : "reduction: bad output shape";
}
/** max, min and norm have no value of an empty tensor */
const char* nonEmptyAxisCheck(const Tape& t, const Node& n) {
  return t.in(n, 0).size >= 1 ? axisCheck(t, n) : "the argument must not be empty";
}

// ----- maxAll / minAll: of every entry, or along an axis keeping it -----
template <bool IsMax>
struct Extremum {
  static bool better(double x, double y) { return IsMax ? x > y : x < y; }
  /** each lane's winner into out (NaN wins, as Math.max, unless `strict`) */
  static void winners(const ReduceMap& r, const double* x, int64_t len, double* out, int64_t outLen, bool strict) {
    std::vector<char> seen(outLen, 0);
    for (int64_t k = 0; k < len; k++) {
      const int64_t i = r.of(k);
      if (!seen[i] || better(x[k], out[i]) || (!strict && x[k] != x[k])) out[i] = x[k];
      seen[i] = 1;
    }
  }
  static void forward(const Tape& t, const Node& n, double* arena, Scratch&) {
    const Node& a = t.in(n, 0);
    winners(reduceMap(a, n), arena + a.offset, a.size, arena + n.offset, n.size, false);
  }
  // which entries win: a tie, or a step that changes the winner, shows up here
  static double branch(const Tape& t, const Node& n, const double* arena) {
    const Node& a = t.in(n, 0);
    const ReduceMap r = reduceMap(a, n);
    const double* x = arena + a.offset;
    std::vector<double> s(n.size);
    winners(r, x, a.size, s.data(), n.size, true);
    double code = 0;
    for (int64_t k = 0; k < a.size; k++)
      if (x[k] == s[r.of(k)]) code += branchWeight(k);
    return code;
  }
};

// ----- norm: 1, 2 (and 'fro'), Infinity; of every entry, or of each lane along an axis -----
constexpr double NEAR_ZERO = 1e-3;

void normForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  const ReduceMap r = reduceMap(a, n);
  const double* d = arena + a.offset;
  double* out = arena + n.offset;
  for (int64_t i = 0; i < n.size; i++) out[i] = 0;
  if (n.ord == 1) for (int64_t k = 0; k < a.size; k++) out[r.of(k)] += std::fabs(d[k]);
  else if (n.ord == 3) for (int64_t k = 0; k < a.size; k++) out[r.of(k)] = jsMax(out[r.of(k)], std::fabs(d[k]));
  else {
    for (int64_t k = 0; k < a.size; k++) out[r.of(k)] += d[k] * d[k];
    for (int64_t i = 0; i < n.size; i++) out[i] = std::sqrt(out[i]);
  }
}
double normBranch(const Tape& t, const Node& n, const double* arena) {
  const Node& a = t.in(n, 0);
  const ReduceMap r = reduceMap(a, n);
  const double* d = arena + a.offset;
  double code = 0;
  if (n.ord == 3) {
    std::vector<double> m(n.size, 0.0);
    for (int64_t k = 0; k < a.size; k++) m[r.of(k)] = jsMax(m[r.of(k)], std::fabs(d[k]));
    for (int64_t k = 0; k < a.size; k++)
      if (std::fabs(d[k]) == m[r.of(k)]) code += branchWeight(k) * (d[k] > 0 ? 2 : 1);
    return code;
  }
  // the 1-norm bends wherever an entry crosses 0; the 2-norm only at a lane's origin, so
  // there the signs of the lane's entries tell a step that passes near it
  std::vector<char> near(n.size, 1);
  for (int64_t k = 0; k < a.size; k++)
    if (std::fabs(d[k]) > NEAR_ZERO) near[r.of(k)] = 0;
  for (int64_t k = 0; k < a.size; k++)
    if (n.ord == 1 || near[r.of(k)]) code += (jsSign(d[k]) + 2) * branchWeight(k);
  return code;
}

}  // namespace

void registerReduce(std::vector<OpEntry>& t) {
  t.push_back(opEntry("sum", 1, {sumForward, nullptr, axisCheck}));
  t.push_back(opEntry("mean", 1, {meanForward, nullptr, axisCheck}));
  t.push_back(opEntry("prod", 1, {prodForward, nullptr, axisCheck}));
  using Max = Extremum<true>;
  using Min = Extremum<false>;
  t.push_back(opEntry("maxAll", 1, {Max::forward, Max::branch, nonEmptyAxisCheck}, true));
  t.push_back(opEntry("minAll", 1, {Min::forward, Min::branch, nonEmptyAxisCheck}, true));
  t.push_back(opEntry("norm", 1, {normForward, normBranch, nonEmptyAxisCheck}, true));
}

}  // namespace ag
