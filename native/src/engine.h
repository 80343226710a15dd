// The drivers: forward values, reverse adjoints (with per-edge contributions when asked),
// forward-mode tangents and the finite-difference loop. Loops over the tape that know
// nothing about any op; every rule comes from the op table (ops.h).
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
  std::vector<char> touched;               // reverse: node already has a contribution
  std::vector<const double*> tangentOf;    // jvp: tangent of each node (nullptr: none)
  std::vector<const double*> inputTangents;  // jvp: one node's inputs' tangents
  int64_t edgeLength = 0;                  // total entries of all edge contributions
};

/** Resolve kernels and check every node, so kernels can trust sizes; empty when fine, else why not. */
std::string finishTape(Compiled& c);

void forward(const Tape& t, double* arena, Scratch& sc, const Deadline& dl = Deadline());

/**
 * Reverse sweep. seed: the output's adjoint (nullptr: 1 for a scalar). edges: when
 * not null, every edge's contribution in the reference engine's order (Compiled::edgeLength
 * entries). The adjoint of nodes that receive nothing is 0.
 */
void reverse(Compiled& c, const double* arena, double* adjoint, const double* seed, double* edges, const Deadline& dl = Deadline());

/** Forward mode: dots[k] is the tangent of tape input k (nullptr: none). */
void jvp(Compiled& c, const double* arena, const double* const* dots, double* outTangent, const Deadline& dl = Deadline());

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
