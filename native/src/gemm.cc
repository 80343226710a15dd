#include "gemm.h"

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#ifdef AG_HAVE_CBLAS
#include <cblas.h>
#endif

namespace ag {

void gemmReference(int64_t m, int64_t n, int64_t k, const double* A, bool tA, const double* B, bool tB, double* C, bool acc) {
  if (!acc) std::memset(C, 0, sizeof(double) * m * n);
  for (int64_t i = 0; i < m; i++) {
    double* ci = C + i * n;
    for (int64_t p = 0; p < k; p++) {
      const double a = tA ? A[p * m + i] : A[i * k + p];
      if (a == 0) continue;  // as the reference: a zero entry contributes nothing, even against inf
      if (tB) for (int64_t j = 0; j < n; j++) ci[j] += a * B[j * k + p];
      else {
        const double* bp = B + p * n;
        for (int64_t j = 0; j < n; j++) ci[j] += a * bp[j];
      }
    }
  }
}

#ifndef AG_HAVE_CBLAS
namespace {

// Cache blocking: a KC×NC panel of op(B) and an MC×KC block of op(A) are packed
// row-major (which also undoes any transpose), then 4 rows of C are updated at once
// so each loaded row of B serves four rows of A. The inner loop is contiguous and
// vectorises.
constexpr int64_t MC = 64, KC = 256, NC = 512;

inline double mulAdd(double a, double b, double c) {
#ifdef __FMA__
  return __builtin_fma(a, b, c);
#else
  return a * b + c;
#endif
}

void blockedRows(int64_t i0, int64_t i1, int64_t n, int64_t k, const double* A, bool tA, int64_t m, const double* B, bool tB, double* C) {
  std::vector<double> Ap(MC * KC), Bp(KC * NC);
  for (int64_t j0 = 0; j0 < n; j0 += NC) {
    const int64_t nb = std::min(NC, n - j0);
    for (int64_t p0 = 0; p0 < k; p0 += KC) {
      const int64_t kb = std::min(KC, k - p0);
      for (int64_t p = 0; p < kb; p++)
        for (int64_t j = 0; j < nb; j++) Bp[p * nb + j] = tB ? B[(j0 + j) * k + p0 + p] : B[(p0 + p) * n + j0 + j];
      for (int64_t ib = i0; ib < i1; ib += MC) {
        const int64_t mb = std::min(MC, i1 - ib);
        for (int64_t i = 0; i < mb; i++)
          for (int64_t p = 0; p < kb; p++) Ap[i * kb + p] = tA ? A[(p0 + p) * m + ib + i] : A[(ib + i) * k + p0 + p];
        int64_t i = 0;
        for (; i + 4 <= mb; i += 4) {
          double* c0 = C + (ib + i) * n + j0;
          double* c1 = c0 + n;
          double* c2 = c1 + n;
          double* c3 = c2 + n;
          for (int64_t p = 0; p < kb; p++) {
            const double a0 = Ap[i * kb + p], a1 = Ap[(i + 1) * kb + p], a2 = Ap[(i + 2) * kb + p], a3 = Ap[(i + 3) * kb + p];
            const double* b = Bp.data() + p * nb;
            for (int64_t j = 0; j < nb; j++) {
              const double bj = b[j];
              c0[j] = mulAdd(a0, bj, c0[j]);
              c1[j] = mulAdd(a1, bj, c1[j]);
              c2[j] = mulAdd(a2, bj, c2[j]);
              c3[j] = mulAdd(a3, bj, c3[j]);
            }
          }
        }
        for (; i < mb; i++) {
          double* c0 = C + (ib + i) * n + j0;
          for (int64_t p = 0; p < kb; p++) {
            const double a0 = Ap[i * kb + p];
            const double* b = Bp.data() + p * nb;
            for (int64_t j = 0; j < nb; j++) c0[j] = mulAdd(a0, b[j], c0[j]);
          }
        }
      }
    }
  }
}

unsigned kernelThreads() {
  unsigned h = std::thread::hardware_concurrency();
  return h == 0 ? 1 : std::min(h, 8u);
}

void gemmBlocked(int64_t m, int64_t n, int64_t k, const double* A, bool tA, const double* B, bool tB, double* C, bool acc) {
  if (!acc) std::memset(C, 0, sizeof(double) * m * n);
  // rows of C split over threads when the product is worth a thread start (~50 µs)
  const unsigned T = (double)m * n * k >= 2e7 && m >= 8 ? std::min<unsigned>(kernelThreads(), (unsigned)(m / 4)) : 1;
  if (T <= 1) {
    blockedRows(0, m, n, k, A, tA, m, B, tB, C);
    return;
  }
  std::vector<std::thread> pool;
  const int64_t chunk = (m + T - 1) / T;
  for (unsigned t = 0; t < T; t++) {
    const int64_t i0 = t * chunk, i1 = std::min(m, i0 + chunk);
    if (i0 < i1) pool.emplace_back(blockedRows, i0, i1, n, k, A, tA, m, B, tB, C);
  }
  for (auto& th : pool) th.join();
}

}  // namespace
#endif

void gemm(int64_t m, int64_t n, int64_t k, const double* A, bool tA, const double* B, bool tB, double* C, bool acc) {
  if (m == 0 || n == 0) return;
  if ((double)m * n * k < GEMM_SMALL || k == 0) {
    gemmReference(m, n, k, A, tA, B, tB, C, acc);
    return;
  }
#ifdef AG_HAVE_CBLAS
  const double beta = acc ? 1.0 : 0.0;
  if (n == 1) {
    // C [m,1] = op(A)·b: b is contiguous whether or not it is read transposed
    cblas_dgemv(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tA ? k : m, tA ? m : k, 1.0, A, tA ? m : k, B, 1, beta, C, 1);
  } else if (m == 1) {
    // C [1,n] = a·op(B), i.e. Cᵀ = op(B)ᵀ·aᵀ
    cblas_dgemv(CblasRowMajor, tB ? CblasNoTrans : CblasTrans, tB ? n : k, tB ? k : n, 1.0, B, tB ? k : n, A, 1, beta, C, 1);
  } else {
    cblas_dgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, m, n, k, 1.0, A, tA ? m : k, B,
                tB ? k : n, beta, C, n);
  }
#else
  gemmBlocked(m, n, k, A, tA, B, tB, C, acc);
#endif
}

#if defined(AG_HAVE_CBLAS) && defined(AG_OPENBLAS)
extern "C" {
char* openblas_get_config(void);
int openblas_get_num_threads(void);
}
std::string blasName() { return std::string("OpenBLAS (") + openblas_get_config() + ")"; }
int blasThreads() { return openblas_get_num_threads(); }
#elif defined(AG_HAVE_CBLAS)
std::string blasName() { return AG_BLAS_NAME; }
int blasThreads() { return 1; }
#else
std::string blasName() { return "built-in kernel"; }
int blasThreads() { return (int)kernelThreads(); }
#endif

}  // namespace ag
