// softmax, logsoftmax and logsumexp along one axis (mirror of src/core/ops/nn.ts): over a
// vector, down the columns (axis 0) or along the rows (axis 1, a matrix's default) of a
// matrix. All are shifted by the lane's maximum.
#include <cmath>
#include <cstring>

#include "ops.h"

namespace ag {
namespace {

/** `count` lanes of `len` entries; entry j of lane i is at i·gs + j·es. */
struct Lanes {
  int64_t count, len, gs, es;
  int64_t at(int64_t i, int64_t j) const { return i * gs + j * es; }
};

/** The node's axis: the one it was given, else a vector's only axis or a matrix's rows. */
int axisOf(const Node& n, const Node& a) { return n.axis >= 0 ? n.axis : a.rank == 2 ? 1 : 0; }

Lanes lanes(const Node& n, const Node& a) {
  if (a.rank < 2) return {1, a.rank == 1 ? a.dims[0] : 1, 0, 1};
  const int64_t m = a.dims[0], c = a.dims[1];
  return axisOf(n, a) == 0 ? Lanes{c, m, 1, c} : Lanes{m, c, c, 1};
}

/** log Σ exp of lane i. */
double laneLse(const double* a, const Lanes& L, int64_t i) {
  double m = -INFINITY;
  for (int64_t j = 0; j < L.len; j++) m = jsMax(m, a[L.at(i, j)]);
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (int64_t j = 0; j < L.len; j++) s += std::exp(a[L.at(i, j)] - m);
  return m + std::log(s);
}

void softmaxOf(const double* a, const Lanes& L, double* s) {
  for (int64_t i = 0; i < L.count; i++) {
    const double lse = laneLse(a, L, i);
    for (int64_t j = 0; j < L.len; j++) s[L.at(i, j)] = std::exp(a[L.at(i, j)] - lse);
  }
}

// ----- softmax -----
void softmaxForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  softmaxOf(arena + a.offset, lanes(n, a), arena + n.offset);
}
// ----- logsoftmax -----
void logsoftmaxForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  const Lanes L = lanes(n, a);
  const double* x = arena + a.offset;
  double* out = arena + n.offset;
  for (int64_t i = 0; i < L.count; i++) {
    const double lse = laneLse(x, L, i);
    for (int64_t j = 0; j < L.len; j++) out[L.at(i, j)] = x[L.at(i, j)] - lse;
  }
}
// ----- logsumexp: one value per lane -----
void logsumexpForward(const Tape& t, const Node& n, double* arena, Scratch&) {
  const Node& a = t.in(n, 0);
  const Lanes L = lanes(n, a);
  for (int64_t i = 0; i < L.count; i++) arena[n.offset + i] = laneLse(arena + a.offset, L, i);
}
/** A tensor argument and an axis it has (a vector has only axis 0). */
const char* axisFits(const Node& n, const Node& a) {
  if (a.rank == 0) return "needs a vector or a matrix, not a scalar";
  if (n.axis > 1 || (a.rank == 1 && n.axis > 0)) return "axis out of range";
  return nullptr;
}
const char* sameSize(const Tape& t, const Node& n) {
  const Node& a = t.in(n, 0);
  if (const char* why = axisFits(n, a)) return why;
  return a.size == n.size ? nullptr : "softmax: bad output shape";
}
const char* lanesOut(const Tape& t, const Node& n) {
  const Node& a = t.in(n, 0);
  if (const char* why = axisFits(n, a)) return why;
  return n.size == lanes(n, a).count ? nullptr : "logsumexp: bad output shape";
}

}  // namespace

void registerNn(std::vector<OpEntry>& t) {
  t.push_back(opEntry("softmax", 1, {softmaxForward, nullptr, sameSize}));
  t.push_back(opEntry("logsoftmax", 1, {logsoftmaxForward, nullptr, sameSize}));
  t.push_back(opEntry("logsumexp", 1, {logsumexpForward, nullptr, lanesOut}));
}

}  // namespace ag
