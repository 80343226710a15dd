// The op table as C++ sees it: one entry per op name of src/core/ops/*.ts, each with a
// forward kernel per arity. The engine loops know nothing about any op (tinygrad style);
// each kernel knows one op's value, branch code and shape check. No derivative is
// written here: a derivative is more tape, built in TypeScript from the op table's graph
// rules (src/core/graph/gradient.ts) and run with these same forward kernels.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "tape.h"

namespace ag {

struct Kernel {
  /** the node's value from its inputs' values, written over arena[offset, offset+size) */
  void (*forward)(const Tape&, const Node&, double* arena, Scratch&) = nullptr;
  /** OpDef.branch: a code per branch the point is on; nullptr for smooth rules. */
  double (*branch)(const Tape&, const Node&, const double* arena) = nullptr;
  /** Shape check at compile time, so kernels can trust sizes: nullptr when fine, else why not. */
  const char* (*check)(const Tape&, const Node&) = nullptr;
};

struct OpEntry {
  std::string name;
  /** kernels[a] for arity a (1..3); kernels[0] serves any arity (variadic and fixed-shape ops) */
  Kernel kernels[4];
  /** the op has a branch code for some arity (JS: getOp(name).branch !== undefined) */
  bool hasBranch = false;
  bool leaf = false;
};

/** An op with one kernel, for one arity (0: any). */
inline OpEntry opEntry(const char* name, int arity, Kernel k, bool hasBranch = false) {
  OpEntry e;
  e.name = name;
  e.kernels[arity] = k;
  e.hasBranch = hasBranch;
  return e;
}

/** Every op, in a fixed order; the addon exports their names. */
const std::vector<OpEntry>& opTable();

// one registration function per family, mirroring src/ops/<family>.ts
void registerElementwise(std::vector<OpEntry>&);
void registerReduce(std::vector<OpEntry>&);
void registerLinalg(std::vector<OpEntry>&);
void registerMatrix(std::vector<OpEntry>&);
void registerNn(std::vector<OpEntry>&);
void registerStructure(std::vector<OpEntry>&);

// ----- shared numeric helpers with JavaScript's exact semantics -----

/** Weight of entry k in a branch code (src/ops/broadcast.ts branchWeight), in doubles as JS computes it. */
inline double branchWeight(int64_t k) { return std::fmod((double)(k + 1) * 2654435761.0, 1000003.0) + 1.0; }

/** Math.max / Math.min: NaN wins, +0 beats -0. */
inline double jsMax(double a, double b) {
  if (a != a || b != b) return NAN;
  if (a > b) return a;
  if (b > a) return b;
  return (a == 0 && std::signbit(a)) ? b : a;
}
inline double jsMin(double a, double b) {
  if (a != a || b != b) return NAN;
  if (a < b) return a;
  if (b < a) return b;
  return (a == 0 && !std::signbit(a)) ? b : a;
}
/** Math.sign: NaN stays NaN, ±0 stays ±0. */
inline double jsSign(double v) { return v > 0 ? 1.0 : v < 0 ? -1.0 : v; }

/** A node's values in the arena. */
inline const double* valueOf(const double* arena, const Node& n) { return arena + n.offset; }

}  // namespace ag
