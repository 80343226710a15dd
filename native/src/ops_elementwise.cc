// Elementwise ops (mirror of src/core/ops/elementwise.ts), written as scalar rules: the
// value f and, where there is a kink, a branch code. Broadcasting and branch codes come
// from one template below. Their derivatives are not here: the TS op table states each
// once, as graph rules whose tapes this engine runs with these kernels.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "broadcast.h"
#include "parallel.h"
#include "ops.h"

namespace ag {
namespace {

// ----- helpers for the rules (the same as the TS file's) -----
inline double sq(double v) { return v * v; }
// sgn of the rules: NaN gives 0 (unlike Math.sign)
inline double sgn(double v) { return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0; }
inline double sigmoidOf(double v) { return v >= 0 ? 1 / (1 + std::exp(-v)) : std::exp(v) / (1 + std::exp(v)); }
// log(1 + e^v) without overflow: max(v,0) + log1p(e^-|v|)
inline double softplusOf(double v) { return jsMax(v, 0) + std::log1p(std::exp(-std::fabs(v))); }
// Math.pow differs from C's pow at |a| = 1 with an infinite or NaN exponent (NaN in JS).
// Squares (x.^2, the usual loss) skip the libm call: a·a is the correctly rounded a².
inline double jsPow(double a, double b) {
  if (b == 2) return a * a;
  if (b == 1) return a;
  if (b != b) return NAN;
  if (std::fabs(a) == 1 && std::isinf(b)) return NAN;
  return std::pow(a, b);
}
// nthRoot(a, n): the real n-th root (negative a with odd n included, as mathjs)
inline double nthRootOf(double a, double n) { return a < 0 && std::fabs(std::fmod(n, 2.0)) == 1 ? -jsPow(-a, 1 / n) : jsPow(a, 1 / n); }
// Math.round(|a|) with the sign of a (Math.round rounds half up: floor(x + 0.5) for x >= 0)
inline double roundOf(double a) {
  double m = std::fabs(a), r = std::floor(m);
  if (m - r >= 0.5) r += 1;
  return jsSign(a) * r;
}

// Rule structs: arity, the value f(x) with x = {args...}, and for ops with kinks a
// branch code (the same numbers as the TS op table's `branch`).
#define RULE_HEAD(Name, N, Kink) \
  struct Name {                  \
    static constexpr int arity = N; \
    static constexpr bool kink = Kink;

#define UNARY(Name, F) \
  RULE_HEAD(Name, 1, false) \
  static double f(const double* x) { const double a = x[0]; return F; } \
  static double branch(const double*) { return 0; } };

#define UNARY_K(Name, F, BR) \
  RULE_HEAD(Name, 1, true) \
  static double f(const double* x) { const double a = x[0]; return F; } \
  static double branch(const double* x) { const double a = x[0]; return BR; } };

#define BINARY(Name, F) \
  RULE_HEAD(Name, 2, false) \
  static double f(const double* x) { const double a = x[0], b = x[1]; return F; } \
  static double branch(const double*) { return 0; } };

#define BINARY_K(Name, F, BR) \
  RULE_HEAD(Name, 2, true) \
  static double f(const double* x) { const double a = x[0], b = x[1]; return F; } \
  static double branch(const double* x) { const double a = x[0], b = x[1]; (void)a; (void)b; return BR; } };

// ----- Arithmetic -----
BINARY(Add,      a + b)
BINARY(Subtract, a - b)
BINARY(Multiply, a * b)
BINARY(Divide,   a / b)
// upstream × partial in a derivative tape: a zero upstream gradient contributes nothing,
// even where the partial is infinite or NaN
BINARY(Gmul,     a == 0 ? 0 : a * b)
BINARY(Pow,      jsPow(a, b))
UNARY(UnaryMinus, -a)
UNARY(UnaryPlus,  a)

// ----- Trigonometric -----
UNARY(Sin,  std::sin(a))
UNARY(Cos,  std::cos(a))
UNARY(Tan,  std::tan(a))
UNARY(Sec,  1 / std::cos(a))
UNARY(Csc,  1 / std::sin(a))
UNARY(Cot,  1 / std::tan(a))
UNARY(Asin, std::asin(a))
UNARY(Acos, std::acos(a))
UNARY(Atan, std::atan(a))
BINARY(Atan2, std::atan2(a, b))
UNARY(Asec, std::acos(1 / a))
UNARY(Acsc, std::asin(1 / a))
UNARY(Acot, std::atan(1 / a))

// ----- Hyperbolic -----
UNARY(Sinh,  std::sinh(a))
UNARY(Cosh,  std::cosh(a))
UNARY(Tanh,  std::tanh(a))
UNARY(Asinh, std::asinh(a))
UNARY(Acosh, std::acosh(a))
UNARY(Atanh, std::atanh(a))
UNARY(Sech,  1 / std::cosh(a))
UNARY(Csch,  1 / std::sinh(a))
UNARY(Coth,  1 / std::tanh(a))
UNARY(Asech, std::acosh(1 / a))
UNARY(Acsch, std::asinh(1 / a))
UNARY(Acoth, std::atanh(1 / a))

// ----- Exponential and logarithmic -----
UNARY(Exp,   std::exp(a))
UNARY(Expm1, std::expm1(a))
UNARY(Log,   std::log(a))
// log(a, b) = ln a / ln b
BINARY(LogBase, std::log(a) / std::log(b))
UNARY(Log2,  std::log2(a))
UNARY(Log10, std::log10(a))
UNARY(Log1p, std::log1p(a))
UNARY(Sqrt,  std::sqrt(a))
UNARY(Cbrt,  std::cbrt(a))
BINARY(NthRoot, nthRootOf(a, b))
UNARY(Square, a * a)
UNARY(Cube,   a * a * a)
// the error function (the TS kernel sums a series of positive terms; both are correct to a few ulps)
UNARY(Erf,    std::erf(a))
// not differentiable at the origin only: near it, the signs tell a step that passes by
BINARY_K(Hypot, std::hypot(a, b),
         std::fabs(a) <= 1e-3 && std::fabs(b) <= 1e-3 ? 3 * sgn(a) + sgn(b) + 5 : 0)

// ----- Piecewise (kinks) -----
UNARY_K(Abs,  std::fabs(a), sgn(a))
UNARY_K(Sign, sgn(a),      sgn(a))
// max/min of two: the branch is which one is larger (a tie is a branch of its own)
BINARY_K(Max, jsMax(a, b), sgn(a - b))
BINARY_K(Min, jsMin(a, b), sgn(a - b))
// rounding: a branch per step
UNARY_K(Floor, std::floor(a), std::floor(a))
UNARY_K(Ceil,  std::ceil(a), std::ceil(a))
UNARY_K(Round, roundOf(a), roundOf(a))
UNARY_K(Fix,   std::trunc(a), std::trunc(a))

// ----- Neural-net activations -----
UNARY(Sigmoid,  sigmoidOf(a))
UNARY_K(Relu,   a > 0 ? a : 0, sgn(a))
UNARY(Softplus, softplusOf(a))

// ----- Comparisons and logic (used by cond ? a : b) -----
#define CMP(Name, TEST) BINARY_K(Name, (TEST) ? 1 : 0, (TEST) ? 1 : 0)
CMP(Larger,    a > b)
CMP(Smaller,   a < b)
CMP(LargerEq,  a >= b)
CMP(SmallerEq, a <= b)
CMP(Equal,     a == b)
CMP(Unequal,   a != b)
CMP(And,       a != 0 && b != 0)
CMP(Or,        a != 0 || b != 0)
UNARY_K(Not, a == 0 ? 1 : 0, a == 0 ? 1 : 0)

// select(c, a, b) = c ? a : b, entry by entry. Chosen by a bit mask, not a branch: the
// condition of a ReLU's gradient (select(x > 0, g, 0)) is as random as the signs of x,
// and a mispredicted branch per entry cost several times the rest of the loop.
inline double pick(bool c, double a, double b) {
  uint64_t ua, ub;
  std::memcpy(&ua, &a, sizeof ua);
  std::memcpy(&ub, &b, sizeof ub);
  const uint64_t mask = -(uint64_t)c;
  const uint64_t r = (ua & mask) | (ub & ~mask);
  double out;
  std::memcpy(&out, &r, sizeof out);
  return out;
}
struct Select {
  static constexpr int arity = 3;
  static constexpr bool kink = true;
  static double f(const double* x) { return pick(x[0] != 0, x[1], x[2]); }
  static double branch(const double* x) { return x[0] != 0 ? 1 : 0; }
};

// ----- the one builder: broadcasting and branch codes for every rule -----

// The chunk body of a parallel loop, called through one pointer per chunk: parallelFor
// (std::thread and all) is then compiled once, not once per loop of every rule, which
// cut this file's compile time to a third.
struct Chunks {
  void (*fn)(const void*, int64_t, int64_t);
  const void* body;
  template <class F>
  explicit Chunks(const F& f) : fn([](const void* b, int64_t s, int64_t e) { (*static_cast<const F*>(b))(s, e); }), body(&f) {}
  void operator()(int64_t s, int64_t e) const { fn(body, s, e); }
};

template <class R>
struct Elementwise {
  static constexpr int N = R::arity;

  static void bind(const Tape& t, const Node& n, const double* arena, Operand* ops) {
    for (int i = 0; i < N; i++) {
      const Node& in = t.in(n, i);
      ops[i].p = arena + in.offset;
      strides(in, n, ops[i].rs, ops[i].cs);
    }
  }

  /**
   * Calls body(k, x) for every output entry k = (i, j), x = {args...}. When every operand
   * is laid out like the output (the common case) the loop is flat, so the compiler can
   * vectorise it.
   */
  template <bool Parallel = true, class Body>
  static void each(const Node& n, const Operand* ops, Body&& body) {
    int64_t R_, C;
    rowsCols(n, R_, C);
    bool flat = true;
    for (int a = 0; a < N; a++) flat = flat && ops[a].cs == 1 && (ops[a].rs == C || R_ == 1);
    if (flat) {
      // entries are independent: large loops are split over the cores (not branch codes, a sum)
      auto range = [&](int64_t b, int64_t e) {
        double x[N];
        for (int64_t k = b; k < e; k++) {
          for (int a = 0; a < N; a++) x[a] = ops[a].p[k];
          body(k, x);
        }
      };
      if (Parallel) parallelFor(R_ * C, Chunks(range));
      else range(0, R_ * C);
      return;
    }
    double x[N];
    for (int64_t i = 0, k = 0; i < R_; i++) {
      for (int64_t j = 0; j < C; j++, k++) {
        for (int a = 0; a < N; a++) x[a] = ops[a].at(i, j);
        body(k, x);
      }
    }
  }

  static void forward(const Tape& t, const Node& n, double* arena, Scratch&) {
    Operand ops[N];
    bind(t, n, arena, ops);
    double* out = arena + n.offset;
    each(n, ops, [&](int64_t k, const double* x) { out[k] = R::f(x); });
  }

  static double branch(const Tape& t, const Node& n, const double* arena) {
    Operand ops[N];
    bind(t, n, arena, ops);
    double code = 0;
    each<false>(n, ops, [&](int64_t k, const double* x) { code += (R::branch(x) + 2) * branchWeight(k); });
    return code;
  }

  static const char* check(const Tape& t, const Node& n) {
    for (int i = 0; i < N; i++)
      if (!broadcastsTo(t.in(n, i), n)) return "an input does not broadcast to the output's shape";
    return nullptr;
  }

  static Kernel kernel() {
    Kernel k;
    k.forward = forward;
    k.branch = R::kink ? branch : nullptr;
    k.check = check;
    return k;
  }
};

/** One op name with a rule per arity (log has two: ln a and log base b). */
template <class... Rules>
OpEntry op(const char* name) {
  OpEntry e;
  e.name = name;
  ((e.kernels[Rules::arity] = Elementwise<Rules>::kernel(), e.hasBranch = e.hasBranch || Rules::kink), ...);
  return e;
}

/**
 * max/min of n ≥ 3 arguments, one op (src/core/ops/elementwise.ts extremeRule); the
 * branch code has a bit per argument equal to the result. Two arguments keep the binary
 * rule above.
 */
template <bool IsMax>
struct Extreme {
  struct Args {
    std::vector<Operand> ops;
    int64_t R = 1, C = 1;
    Args(const Tape& t, const Node& n, const double* arena) : ops(n.nInputs) {
      rowsCols(n, R, C);
      for (int i = 0; i < n.nInputs; i++) {
        const Node& in = t.in(n, i);
        ops[i].p = arena + in.offset;
        strides(in, n, ops[i].rs, ops[i].cs);
      }
    }
    double value(int64_t i, int64_t j) const {
      double s = ops[0].at(i, j);
      for (size_t a = 1; a < ops.size(); a++) s = IsMax ? jsMax(s, ops[a].at(i, j)) : jsMin(s, ops[a].at(i, j));
      return s;
    }
  };

  static void forward(const Tape& t, const Node& n, double* arena, Scratch&) {
    const Args x(t, n, arena);
    double* out = arena + n.offset;
    for (int64_t i = 0, k = 0; i < x.R; i++)
      for (int64_t j = 0; j < x.C; j++, k++) out[k] = x.value(i, j);
  }

  static double branch(const Tape& t, const Node& n, const double* arena) {
    const Args x(t, n, arena);
    double code = 0;
    for (int64_t i = 0, k = 0; i < x.R; i++)
      for (int64_t j = 0; j < x.C; j++, k++) {
        const double s = x.value(i, j);
        double winners = 0;
        for (size_t a = 0; a < x.ops.size(); a++)
          if (x.ops[a].at(i, j) == s) winners += std::ldexp(1.0, (int)(a % 52));
        code += (winners + 2) * branchWeight(k);
      }
    return code;
  }

  static const char* check(const Tape& t, const Node& n) {
    if (n.nInputs < 3) return "max/min of n arguments needs at least 3";
    for (int i = 0; i < n.nInputs; i++)
      if (!broadcastsTo(t.in(n, i), n)) return "an input does not broadcast to the output's shape";
    return nullptr;
  }

  static Kernel kernel() { return {forward, branch, check}; }
};

/** An op with its binary rule and, for three or more arguments, the n-ary kernel. */
template <class Two, bool IsMax>
OpEntry extremeOp(const char* name) {
  OpEntry e = op<Two>(name);
  e.kernels[0] = Extreme<IsMax>::kernel();
  return e;
}

}  // namespace

void registerElementwise(std::vector<OpEntry>& t) {
  t.push_back(op<Add>("add"));
  t.push_back(op<Subtract>("subtract"));
  t.push_back(op<Multiply>("multiply"));
  t.push_back(op<Divide>("divide"));
  t.push_back(op<Gmul>("gmul"));
  t.push_back(op<Pow>("pow"));
  t.push_back(op<UnaryMinus>("unaryMinus"));
  t.push_back(op<UnaryPlus>("unaryPlus"));
  t.push_back(op<Sin>("sin"));
  t.push_back(op<Cos>("cos"));
  t.push_back(op<Tan>("tan"));
  t.push_back(op<Sec>("sec"));
  t.push_back(op<Csc>("csc"));
  t.push_back(op<Cot>("cot"));
  t.push_back(op<Asin>("asin"));
  t.push_back(op<Acos>("acos"));
  t.push_back(op<Atan>("atan"));
  t.push_back(op<Atan2>("atan2"));
  t.push_back(op<Asec>("asec"));
  t.push_back(op<Acsc>("acsc"));
  t.push_back(op<Acot>("acot"));
  t.push_back(op<Sinh>("sinh"));
  t.push_back(op<Cosh>("cosh"));
  t.push_back(op<Tanh>("tanh"));
  t.push_back(op<Asinh>("asinh"));
  t.push_back(op<Acosh>("acosh"));
  t.push_back(op<Atanh>("atanh"));
  t.push_back(op<Sech>("sech"));
  t.push_back(op<Csch>("csch"));
  t.push_back(op<Coth>("coth"));
  t.push_back(op<Asech>("asech"));
  t.push_back(op<Acsch>("acsch"));
  t.push_back(op<Acoth>("acoth"));
  t.push_back(op<Exp>("exp"));
  t.push_back(op<Expm1>("expm1"));
  t.push_back(op<Log, LogBase>("log"));
  t.push_back(op<Log2>("log2"));
  t.push_back(op<Log10>("log10"));
  t.push_back(op<Log1p>("log1p"));
  t.push_back(op<Sqrt>("sqrt"));
  t.push_back(op<Cbrt>("cbrt"));
  t.push_back(op<NthRoot>("nthRoot"));
  t.push_back(op<Square>("square"));
  t.push_back(op<Cube>("cube"));
  t.push_back(op<Erf>("erf"));
  t.push_back(op<Hypot>("hypot"));
  t.push_back(op<Abs>("abs"));
  t.push_back(op<Sign>("sign"));
  t.push_back(op<Floor>("floor"));
  t.push_back(op<Ceil>("ceil"));
  t.push_back(op<Round>("round"));
  t.push_back(op<Fix>("fix"));
  t.push_back(extremeOp<Max, true>("max"));
  t.push_back(extremeOp<Min, false>("min"));
  t.push_back(op<Sigmoid>("sigmoid"));
  t.push_back(op<Relu>("relu"));
  t.push_back(op<Softplus>("softplus"));
  t.push_back(op<Larger>("larger"));
  t.push_back(op<Smaller>("smaller"));
  t.push_back(op<LargerEq>("largerEq"));
  t.push_back(op<SmallerEq>("smallerEq"));
  t.push_back(op<Equal>("equal"));
  t.push_back(op<Unequal>("unequal"));
  t.push_back(op<And>("and"));
  t.push_back(op<Or>("or"));
  t.push_back(op<Not>("not"));
  t.push_back(op<Select>("select"));
}

}  // namespace ag
