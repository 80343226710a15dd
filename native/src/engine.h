// The drivers: forward values (from any node on: a derivative tape is the original tape
// with nodes appended, and the original part is computed already) and the
// finite-difference loop. Loops over the tape that know nothing about any op; every
// kernel comes from the op table (ops.h). Reverse and forward mode are tapes too
// (src/core/graph/gradient.ts): this engine runs them with the same forward kernels.
#pragma once

#include <string>
#include <vector>

#include "deadline.h"
#include "ops.h"
#include "tape.h"

namespace ag {

/** A tape handed over once, with the buffers its runs reuse. */
struct Compiled {
  Tape tape;
  Scratch scratch;
};

/**
 * Resolve kernels and check every node, so kernels can trust sizes; empty when fine, else
 * why not. Then let matrix products read through transposes (Node::operand): a transpose
 * read only by products, that the caller does not read (Tape::keep), is not computed.
 */
std::string finishTape(Compiled& c);

/** Every computed node from `from` on, in tape order. */
void forward(const Tape& t, double* arena, Scratch& sc, const Deadline& dl = Deadline(), int64_t from = 0);

/**
 * The output at perturbed points (Engine.evaluate): point p adds delta[p] to input entry
 * coord[p], or delta[p]·direction when coord[p] is -1. Threads split the points when
 * there are many; each thread reuses one copy of the arena for all its points.
 */
void evaluate(const Compiled& c, const double* arena, int64_t count, const int32_t* coord, const double* delta,
              const double* direction, double* values, double* branches, int threads, const Deadline& dl = Deadline());

/** One number that changes when any kink op switches branch (js.ts branchCode). */
double branchCode(const Tape& t, const double* arena);

/** Threads the finite-difference loop may use (AUTOGRAD_THREADS, else the cores; at most MAX_THREADS). */
int defaultThreads();

}  // namespace ag
