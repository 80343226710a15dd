// Matrix products for matmul: BLAS (cblas_dgemm / dgemv, from a
// CBLAS library found at run time) above a size threshold, with those of moderate size on
// our own AVX-512 kernel instead where the CPU has it (chosen at run time), our own
// cache-blocked kernel when there is no BLAS (or AUTOGRAD_BLAS=none, or a build without
// BLAS), and below the threshold a plain loop in exactly the TypeScript engine's order
// (src/core/ops/linalg.ts gemm), so small products agree bit for bit with the reference.
#pragma once

#include <cstdint>
#include <string>

namespace ag {

/**
 * C = op(A)·op(B) for op(A) [m,k] and op(B) [k,n], row-major. tA/tB read
 * A or B transposed as stored ([k,m] / [n,k]), so a product of a transpose needs no copy.
 * IEEE special values as the TypeScript engine has them, at every size: no zero entry is
 * skipped (0·Inf = NaN), and an entry that comes out non-finite is computed again so that
 * it is what the exact sum rounds to (an overflow is ±Inf with the sum's sign). The running
 * pass's deadline (deadline.h) is checked in blocks: between cache blocks of the built-in
 * kernel, between BLAS calls on blocks of C, and row by row in the recompute.
 */
void gemm(int64_t m, int64_t n, int64_t k, const double* A, bool tA, const double* B, bool tB, double* C);

/** Products with m·n·k below this run the reference-order loop. */
constexpr double GEMM_SMALL = 16384;

/** The reference-order loop alone (for tests and the small case). */
void gemmReference(int64_t m, int64_t n, int64_t k, const double* A, bool tA, const double* B, bool tB, double* C);

/** A routine of the BLAS library in use by name (its LAPACK's dgetrf_ …), nullptr when there is none or it lacks it. */
void* blasSymbol(const char* name);

/** What `doctor` prints: the BLAS in use, or "built-in kernel". */
std::string blasName();
/** The library file the BLAS came from, or why the built-in kernel runs. */
std::string blasFrom();
/**
 * Whether products of moderate size run on the built-in AVX-512 kernel (gemm.cc
 * dgemmAvx512) instead of BLAS's: where a BLAS is loaded, the CPU has AVX-512F and
 * AUTOGRAD_AVX512 is not 0.
 */
bool avx512Products();
/** Threads a large product runs on: the pool's (gemm.cc poolThreads), or the BLAS library's own. */
int blasThreads();

/**
 * While alive, OpenBLAS runs on its own threads again: for LAPACK's routines, which the
 * pool does not split (matrix products leave OpenBLAS at one thread per call; gemm.cc).
 */
struct BlasOwnThreads {
  BlasOwnThreads();
  ~BlasOwnThreads();
  BlasOwnThreads(const BlasOwnThreads&) = delete;
  BlasOwnThreads& operator=(const BlasOwnThreads&) = delete;
};

}  // namespace ag
