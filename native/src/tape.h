// The tape as C++ sees it: a mirror of src/core/graph/tape.ts, handed over once per tape
// (addon.cc `compile`) and kept in an external object. Values are not here: they live
// in the Float64Array arena JavaScript owns, node i at [offset, offset + size).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ag {

struct Kernel;

struct Node {
  int op = 0;                      // index into the op table (ops.h), as named by `opNames`
  const Kernel* kernel = nullptr;  // the op's kernel for this node's arity
  int32_t firstInput = 0;          // into Tape::inputs
  int32_t nInputs = 0;
  int rank = 0;                    // 0 scalar, 1 vector, 2 matrix
  int64_t dims[2] = {1, 1};
  int64_t size = 1;
  int64_t offset = 0;
  bool active = false;             // depends on a differentiable input
  int axis = -1;                   // sum/mean/prod: reduce along this axis (-1: all entries)
  int ord = 2;                     // norm: 1, 2 (also 'fro') or 3 for Infinity
  int64_t firstGather = 0;         // subset, scatter: into Tape::gather
  int64_t nGather = 0;
  // matmul: argument i is read from node `operand[i]` (-1: its own input), transposed when
  // `transposed[i]`; set when the input is a transpose the product can read through (finishTape)
  int32_t operand[2] = {-1, -1};
  bool transposed[2] = {false, false};
};

/** Rows and columns of a shape of rank <= 2 seen as a matrix: a vector is one row (tensor.ts asRowsCols). */
inline void rowsCols(const Node& n, int64_t& r, int64_t& c) {
  if (n.rank == 0) r = c = 1;
  else if (n.rank == 1) r = 1, c = n.dims[0];
  else r = n.dims[0], c = n.dims[1];
}

struct Tape {
  std::vector<Node> nodes;
  std::vector<int32_t> inputs;   // input node ids of every node, concatenated
  std::vector<int32_t> gather;   // subset and scatter index tables, concatenated
  int64_t arenaSize = 0;
  int output = 0;
  std::vector<int32_t> inputNodes;  // node of each tape input (differentiation variable)
  std::vector<int64_t> slots;       // arena position of every tape-input entry, in order
  std::vector<int32_t> kinkNodes;   // nodes whose op has a branch code (OpDef.branch)
  int64_t maxSize = 1;              // largest node, to size scratch buffers once
  std::vector<int32_t> keep;        // nodes the caller reads besides the output (null in the spec: all)
  bool keepGiven = false;

  const Node& in(const Node& n, int i) const { return nodes[inputs[n.firstInput + i]]; }
  int32_t inId(const Node& n, int i) const { return inputs[n.firstInput + i]; }
};

/** Scratch buffers that grow once and are reused across nodes and runs (one per thread). */
struct Scratch {
  std::vector<double> buf[2];
  double* get(int slot, size_t n) {
    if (buf[slot].size() < n) buf[slot].resize(n);
    return buf[slot].data();
  }
};
// Scratch slots kernels use.
enum { SCRATCH_K1 = 0, SCRATCH_K2 = 1 };

}  // namespace ag
