#include "ops.h"

namespace ag {

const std::vector<OpEntry>& opTable() {
  // built once, in the order of src/ops/index.ts: elementwise, reduce, linalg, matrix, nn, structure
  static const std::vector<OpEntry> table = [] {
    std::vector<OpEntry> t;
    registerElementwise(t);
    registerReduce(t);
    registerLinalg(t);
    registerMatrix(t);
    registerNn(t);
    registerStructure(t);
    return t;
  }();
  return table;
}

}  // namespace ag
