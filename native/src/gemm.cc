#include "gemm.h"

#include "deadline.h"
#include "parallel.h"
#include "pool.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#if defined(AG_BLAS_RUNTIME) && !defined(_WIN32)
#include <dlfcn.h>
#define AG_DLOPEN 1
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define AG_AVX512 1
// the AVX-512 kernel's code in a section of its own (ELF), so a test can tell that the
// baseline prebuild has no AVX instruction outside it (test/native/prebuilds.test.ts)
#ifdef __ELF__
#define AG_AVX512_SECTION __attribute__((section("ag_avx512")))
#else
#define AG_AVX512_SECTION
#endif
#endif

namespace ag {

void gemmReference(int64_t m, int64_t n, int64_t k, const double* A, bool tA, const double* B, bool tB, double* C) {
  std::memset(C, 0, sizeof(double) * m * n);
  for (int64_t i = 0; i < m; i++) {
    double* ci = C + i * n;
    for (int64_t p = 0; p < k; p++) {
      const double a = tA ? A[p * m + i] : A[i * k + p];
      if (tB) for (int64_t j = 0; j < n; j++) ci[j] += a * B[j * k + p];
      else {
        const double* bp = B + p * n;
        for (int64_t j = 0; j < n; j++) ci[j] += a * bp[j];
      }
    }
  }
}

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
  // packing buffers made once per thread (1.2 MB: a fresh one per product is an mmap and its page faults)
  thread_local std::vector<double> Ap(MC * KC), Bp(KC * NC);
  for (int64_t j0 = 0; j0 < n; j0 += NC) {
    const int64_t nb = std::min(NC, n - j0);
    for (int64_t p0 = 0; p0 < k; p0 += KC) {
      const int64_t kb = std::min(KC, k - p0);
      for (int64_t p = 0; p < kb; p++)
        for (int64_t j = 0; j < nb; j++) Bp[p * nb + j] = tB ? B[(j0 + j) * k + p0 + p] : B[(p0 + p) * n + j0 + j];
      for (int64_t ib = i0; ib < i1; ib += MC) {
        const int64_t mb = std::min(MC, i1 - ib);
        checkWork((double)mb * kb * nb);
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

void gemmBlocked(int64_t m, int64_t n, int64_t k, const double* A, bool tA, const double* B, bool tB, double* C) {
  std::memset(C, 0, sizeof(double) * m * n);
  // rows of C split over threads when the product is worth a thread start (~50 µs)
  const unsigned T = (double)m * n * k >= 2e7 && m >= 8 ? std::min<unsigned>(kernelThreads(), (unsigned)(m / 4)) : 1;
  if (T <= 1) {
    blockedRows(0, m, n, k, A, tA, m, B, tB, C);
    return;
  }
  // each thread checks the caller's deadline between its blocks; a Timeout on any is rethrown here
  const Deadline* dl = runningDeadline;
  const int64_t chunk = (m + T - 1) / T;
  runThreads((int)T, [&](int t) {
    const DeadlineScope scope(dl);
    const int64_t i0 = t * chunk, i1 = std::min(m, i0 + chunk);
    if (i0 < i1) blockedRows(i0, i1, n, k, A, tA, m, B, tB, C);
  });
}

// ----- a CBLAS found at run time -----
//
// The addon is not linked against a BLAS, so one binary (a prebuild) runs on machines
// with or without one: the first product large enough to want it looks for a CBLAS
// library with dlopen and takes cblas_dgemm / cblas_dgemv from it. Without one, or with
// AUTOGRAD_BLAS=none, the blocked kernel above runs. AUTOGRAD_BLAS=<file> loads that
// library only. The constants are CBLAS's (cblas.h): RowMajor 101, NoTrans 111, Trans 112.
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
using Dgemm = void (*)(int, int, int, int, int, int, double, const double*, int, const double*, int, double, double*, int);
using Dgemv = void (*)(int, int, int, int, double, const double*, int, const double*, int, double, double*, int);

struct Blas {
  Dgemm dgemm = nullptr;
  Dgemv dgemv = nullptr;
  int (*threads)() = nullptr;
  /** openblas_set_num_threads, when the library has it */
  void (*setThreads)(int) = nullptr;
  /** the library's handle, for its other routines (LAPACK's LU: ops_matrix.cc) */
  void* handle = nullptr;
  std::string name = "built-in kernel";
  /** the library file loaded, or why there is none */
  std::string from;
};

#ifdef AG_DLOPEN
const char* const kCandidates[] = {
#ifdef __APPLE__
    "/System/Library/Frameworks/Accelerate.framework/Accelerate", "libopenblas.dylib", "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
    "/usr/local/opt/openblas/lib/libopenblas.dylib",
#else
    "libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3", "libmkl_rt.so.2",
#endif
};

/** A CBLAS from `file` into b; false (b untouched) when it does not load or lacks the two routines. */
bool tryLoad(const char* file, Blas& b, std::string& error) {
  void* h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    error = e ? e : "cannot be loaded";
    return false;
  }
  auto dgemm = reinterpret_cast<Dgemm>(dlsym(h, "cblas_dgemm"));
  auto dgemv = reinterpret_cast<Dgemv>(dlsym(h, "cblas_dgemv"));
  if (!dgemm || !dgemv) {
    error = std::string(file) + " has no cblas_dgemm/cblas_dgemv";
    dlclose(h);
    return false;
  }
  b.dgemm = dgemm;
  b.dgemv = dgemv;
  b.handle = h;
  b.threads = reinterpret_cast<int (*)()>(dlsym(h, "openblas_get_num_threads"));
  b.setThreads = reinterpret_cast<void (*)(int)>(dlsym(h, "openblas_set_num_threads"));
  Dl_info where;
  b.from = dladdr(reinterpret_cast<void*>(dgemm), &where) && where.dli_fname ? where.dli_fname : file;
  if (auto config = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_config"))) b.name = std::string("OpenBLAS (") + config() + ")";
  else b.name = std::string("CBLAS (") + b.from.substr(b.from.rfind('/') + 1) + ")";
  return true;  // kept open for the life of the process
}
#endif

Blas findBlas() {
  Blas b;
#ifdef AG_DLOPEN
  const char* env = std::getenv("AUTOGRAD_BLAS");
  const std::string want = env ? env : "";
  if (want == "none" || want == "0" || want == "off") {
    b.from = "AUTOGRAD_BLAS=" + want;
    return b;
  }
  std::string error;
  if (!want.empty() && want != "auto") {
    if (!tryLoad(want.c_str(), b, error)) b.from = "AUTOGRAD_BLAS=" + want + ": " + error;
    return b;
  }
  std::string tried;
  for (const char* file : kCandidates) {
    if (tryLoad(file, b, error)) return b;
    tried += tried.empty() ? file : std::string(", ") + file;
  }
  b.from = "no CBLAS found (tried " + tried + ")";
#else
  b.from = "built without BLAS";
#endif
  return b;
}

/** Looked for once per process, on first use (a thread-safe static). */
const Blas& blas() {
  static const Blas b = findBlas();
  return b;
}

/**
 * Whether any entry is Inf or NaN (all exponent bits set), in blocks: integer tests
 * that vectorise, where std::isfinite in a loop that stops early does not. An entry's
 * exponent bits plus one unit of the exponent carry into the sign bit only when they are
 * all set: an AND, an ADD and an OR per entry, which vectorise at every x86-64 level (a
 * comparison of 64-bit integers, `(bits & EXP) == EXP`, stays scalar in the baseline
 * prebuild, which has no such vector instruction). Every product's C is scanned.
 */
bool anyNonFinite(const double* x, int64_t n) {
  constexpr uint64_t EXP = 0x7ff0000000000000ull, ONE = 0x0010000000000000ull, SIGN = 0x8000000000000000ull;
  for (int64_t j0 = 0; j0 < n; j0 += 4096) {
    const int64_t j1 = std::min(n, j0 + 4096);
    uint64_t any = 0;
    for (int64_t j = j0; j < j1; j++) {
      uint64_t bits;
      std::memcpy(&bits, x + j, sizeof bits);
      any |= (bits & EXP) + ONE;
    }
    if (any & SIGN) return true;
  }
  return false;
}

// ----- an AVX-512 kernel for products of moderate size, chosen at run time -----
//
// Compiled into every x86-64 build (prebuilds included) with the target attribute and
// used only where the CPU has AVX-512F (__builtin_cpu_supports, which also checks that
// the OS saves the registers): so both linux-x64 prebuilds and a local build run the same
// instructions here and give the same bits. It has CBLAS's dgemm signature (row-major,
// alpha 1, beta 0 or 1: all blasBlocks asks), so the pool splits its products as it
// splits BLAS's. The sum for each entry of C runs over the inner dimension in order, in
// fused multiply-adds (explicit, so -ffp-contract=off does not apply), slice by slice of
// KC_512; non-finite entries are redone by gemm() as after BLAS.

/** Rows and columns of C one call of the micro-kernel makes: 12 rows × 2 vectors of 8 = 24 accumulators. */
constexpr int MR_512 = 12, NR_512 = 16;
/** Cache blocks: a KC×NC slice of op(B) and an MC×KC block of op(A), packed. */
constexpr int64_t KC_512 = 256, NC_512 = 512, MC_512 = 8 * MR_512;
/** Products of at most this many multiply-adds, with C at least NR_512 wide, go to the kernel; larger ones to BLAS. */
constexpr double AVX512_MAX = 1 << 24;

#ifdef AG_AVX512
/** C[mr×nr] (row stride ldc) = or += a packed MR_512×kc panel of op(A) times a packed kc×NR_512 panel of op(B). */
__attribute__((target("avx512f"))) AG_AVX512_SECTION void microAvx512(int64_t kc, const double* a, const double* b, double* c,
                                                                       int64_t ldc, bool add, int mr, int nr) {
  __m512d acc[MR_512][2];
  for (int r = 0; r < MR_512; r++) acc[r][0] = acc[r][1] = _mm512_setzero_pd();
  for (int64_t p = 0; p < kc; p++) {
    const __m512d b0 = _mm512_loadu_pd(b + p * NR_512), b1 = _mm512_loadu_pd(b + p * NR_512 + 8);
    const double* ap = a + p * MR_512;
#pragma GCC unroll 12
    for (int r = 0; r < MR_512; r++) {
      const __m512d av = _mm512_set1_pd(ap[r]);
      acc[r][0] = _mm512_fmadd_pd(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_pd(av, b1, acc[r][1]);
    }
  }
  if (mr == MR_512 && nr == NR_512) {
    for (int r = 0; r < MR_512; r++) {
      double* cr = c + r * ldc;
      if (add) {
        acc[r][0] = _mm512_add_pd(_mm512_loadu_pd(cr), acc[r][0]);
        acc[r][1] = _mm512_add_pd(_mm512_loadu_pd(cr + 8), acc[r][1]);
      }
      _mm512_storeu_pd(cr, acc[r][0]);
      _mm512_storeu_pd(cr + 8, acc[r][1]);
    }
    return;
  }
  // an edge of C: the tile is made whole (the packed panels are padded with zeros) and only its part in C is kept
  alignas(64) double t[MR_512 * NR_512];
  for (int r = 0; r < MR_512; r++) {
    _mm512_store_pd(t + r * NR_512, acc[r][0]);
    _mm512_store_pd(t + r * NR_512 + 8, acc[r][1]);
  }
  for (int r = 0; r < mr; r++)
    for (int j = 0; j < nr; j++) c[r * ldc + j] = add ? c[r * ldc + j] + t[r * NR_512 + j] : t[r * NR_512 + j];
}

/** A kc×W panel, row p at d + p·W, from at(p, j) for j < w, padded with zeros to W. */
template <int W, class At>
void packPanel(double* d, int64_t kc, int64_t w, At at) {
  for (int64_t p = 0; p < kc; p++) {
    double* dp = d + p * W;
    for (int64_t j = 0; j < w; j++) dp[j] = at(p, j);
    for (int64_t j = w; j < W; j++) dp[j] = 0;
  }
}

/**
 * cblas_dgemm for what blasBlocks asks (row-major, alpha 1, beta 0 or 1) on the AVX-512
 * kernel: op(B) packed in panels of NR_512 columns, op(A) in panels of MR_512 rows (which
 * also undoes any transpose), both padded with zeros at the edges.
 */
void dgemmAvx512(int, int transA, int transB, int M, int N, int K, double, const double* A, int lda, const double* B, int ldb, double beta,
                 double* C, int ldc) {
  const bool tA = transA == kTrans, tB = transB == kTrans;
  const int64_t m = M, n = N, k = K;
  // packing buffers made once per thread, as blockedRows' (the pool's threads keep theirs)
  thread_local std::vector<double> Ap(MC_512 * KC_512), Bp(NC_512 * KC_512);
  for (int64_t j0 = 0; j0 < n; j0 += NC_512) {
    const int64_t nc = std::min(NC_512, n - j0);
    for (int64_t p0 = 0; p0 < k; p0 += KC_512) {
      const int64_t kc = std::min(KC_512, k - p0);
      const bool add = p0 > 0 || beta != 0.0;
      for (int64_t jp = 0; jp * NR_512 < nc; jp++) {
        double* d = Bp.data() + jp * NR_512 * kc;
        const int64_t jj = j0 + jp * NR_512, nr = std::min<int64_t>(NR_512, j0 + nc - jj);
        packPanel<NR_512>(d, kc, nr, [&](int64_t p, int64_t j) { return tB ? B[(jj + j) * ldb + p0 + p] : B[(p0 + p) * ldb + jj + j]; });
      }
      for (int64_t i0 = 0; i0 < m; i0 += MC_512) {
        const int64_t mc = std::min(MC_512, m - i0);
        for (int64_t ip = 0; ip * MR_512 < mc; ip++) {
          double* d = Ap.data() + ip * MR_512 * kc;
          const int64_t ii = i0 + ip * MR_512, mr = std::min<int64_t>(MR_512, i0 + mc - ii);
          packPanel<MR_512>(d, kc, mr, [&](int64_t p, int64_t r) { return tA ? A[(p0 + p) * lda + ii + r] : A[(ii + r) * lda + p0 + p]; });
        }
        for (int64_t jp = 0; jp * NR_512 < nc; jp++) {
          const int64_t jj = j0 + jp * NR_512;
          const int nr = (int)std::min<int64_t>(NR_512, j0 + nc - jj);
          for (int64_t ip = 0; ip * MR_512 < mc; ip++) {
            const int64_t ii = i0 + ip * MR_512;
            microAvx512(kc, Ap.data() + ip * MR_512 * kc, Bp.data() + jp * NR_512 * kc, C + ii * ldc + jj, ldc, add,
                        (int)std::min<int64_t>(MR_512, i0 + mc - ii), nr);
          }
        }
      }
    }
  }
}

/** Whether this CPU runs the kernel, and AUTOGRAD_AVX512 is not 0 (looked at once per process). */
bool avx512Kernel() {
  static const bool on = [] {
    const char* env = std::getenv("AUTOGRAD_AVX512");
    if (env && std::string(env) == "0") return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return on;
}
#else
bool avx512Kernel() { return false; }
#endif

/** Multiply-adds of one BLAS call, when the product allows (~10-100 ms of BLAS): the deadline is checked between calls. */
constexpr double BLAS_BLOCK = 1 << 27;
/**
 * The inner dimension is cut in whole steps of this depth. BLAS itself sums a product in
 * slices of about this depth (OpenBLAS's GEMM_Q for double on x86-64 is 256), packing a
 * slice of each operand once and adding it into C: a cut there costs one more call, not
 * another pass over an operand.
 */
constexpr int64_t BLAS_DEPTH_STEP = 256;
/** C is never cut thinner than this, so each call keeps BLAS's speed. */
constexpr int64_t BLAS_MIN_SIDE = 64;

/**
 * C = op(A)·op(B) by cblas_dgemm, in calls of at most about BLAS_BLOCK multiply-adds,
 * checking the run's deadline between them. A larger product is cut first along the
 * inner dimension (in BLAS_DEPTH_STEP steps; later slices add into C), and only when one
 * step over all of C is still too much, C along its longer side: each piece of C packs the
 * operand that runs along the other side again, so that is the smaller one. (Cutting C's
 * rows first, as before, packed all of op(B) again for every few rows.)
 */
void blasBlocks(Dgemm dgemm, int64_t m, int64_t n, int64_t k, const double* A, int64_t lda, bool tA, const double* B, int64_t ldb, bool tB,
                double* C, int64_t ldc) {
  const double mn = (double)m * (double)n;
  int64_t depth = k;
  if (mn * (double)k > BLAS_BLOCK) depth = std::min(k, std::max<int64_t>(1, (int64_t)(BLAS_BLOCK / mn / BLAS_DEPTH_STEP)) * BLAS_DEPTH_STEP);
  int64_t rows = m, cols = n;
  const auto fit = [&](int64_t other, int64_t side) {
    return std::min(side, std::max(BLAS_MIN_SIDE, (int64_t)(BLAS_BLOCK / ((double)other * (double)depth))));
  };
  if (mn * (double)depth > BLAS_BLOCK) {
    if (m >= n) {
      rows = fit(n, m);
      if ((double)rows * n * depth > BLAS_BLOCK) cols = fit(rows, n);
    } else {
      cols = fit(m, n);
      if ((double)m * cols * depth > BLAS_BLOCK) rows = fit(cols, m);
    }
  }
  for (int64_t i0 = 0; i0 < m; i0 += rows)
    for (int64_t j0 = 0; j0 < n; j0 += cols)
      for (int64_t p0 = 0; p0 < k; p0 += depth) {
        const int64_t mb = std::min(rows, m - i0), nb = std::min(cols, n - j0), kb = std::min(depth, k - p0);
        checkWork((double)mb * nb * kb);
        // op(A)[i0.., p0..] and op(B)[p0.., j0..] inside the stored matrices; later slices of k add to C
        const double* a = tA ? A + p0 * lda + i0 : A + i0 * lda + p0;
        const double* bb = tB ? B + j0 * ldb + p0 : B + p0 * ldb + j0;
        dgemm(kRowMajor, tA ? kTrans : kNoTrans, tB ? kTrans : kNoTrans, (int)mb, (int)nb, (int)kb, 1.0, a, (int)lda, bb, (int)ldb,
                p0 == 0 ? 0.0 : 1.0, C + i0 * ldc + j0, (int)ldc);
      }
}

/** Products from this many multiply-adds (~20 µs on one core) are split over the pool. */
constexpr double POOL_FROM = 1 << 20;

/**
 * The pool's threads take the products from POOL_FROM up when BLAS is OpenBLAS (whose
 * thread count can be set): OpenBLAS then runs one thread per call. Its own threads split
 * each product into fixed shares and wait for every one; on a machine whose other cores
 * are busy, a product then waits for a thread the system has not run yet, where the pool's
 * caller takes the pieces no thread has claimed. The pool has as many threads as OpenBLAS
 * had (OPENBLAS_NUM_THREADS) and the engine allows (AUTOGRAD_THREADS).
 */
int poolThreads(const Blas& b) {
  static const int T = [&] {
    if (!b.setThreads || !b.threads) return 1;
    const int t = std::min(b.threads(), Pool::get().size());
    if (t > 1) b.setThreads(1);
    return t;
  }();
  return T;
}

/** Most entries of the partial products a product cut along its inner dimension adds up (kept per calling thread). */
constexpr double POOL_PARTIAL_MAX = 1 << 16;

/**
 * C = op(A)·op(B) over the pool. A product whose C is small beside its operands (x·W of
 * a small batch: [64,1000]·[1000,100]) is cut along its inner dimension, one slice per
 * thread: each packs its own slices of A and B, and the partial products (the first in C,
 * the others in a buffer of at most POOL_PARTIAL_MAX entries) are added in a fixed order,
 * so the result does not depend on which thread ran what. Otherwise C is cut along its
 * longer side (each piece packs the operand along the other side, the smaller, again): a
 * piece per thread for a product of a few ms at most (so the repacking stays a small
 * share), four per thread above (a thread that the system stops for a while then holds up
 * less of it). Each piece is blasBlocks, checking the run's deadline between its calls.
 */
bool blasPool(Dgemm dgemm, int T, int64_t m, int64_t n, int64_t k, const double* A, bool tA, const double* B, bool tB, double* C) {
  const double work = (double)m * n * k;
  const bool byRows = m >= n;
  const int64_t lda = tA ? m : k, ldb = tB ? k : n;
  const Deadline* dl = runningDeadline;
  // entries packed again by each further piece of C's side, against the partial products of a cut of the inner dimension
  const double repack = byRows ? (double)k * n : (double)m * k;
  const double mn = (double)m * n;
  if (mn * (T - 1) <= POOL_PARTIAL_MAX && mn < repack && k >= 2 * T) {
    thread_local std::vector<double> partial;
    partial.resize((size_t)(m * n * (T - 1)));
    double* parts = partial.data();  // the caller's buffer (a thread_local named in a task would be the worker's)
    const int64_t depth = (k + T - 1) / T;
    const int64_t count = (k + depth - 1) / depth;
    Pool::get().run(count, [&](int64_t t) {
      const DeadlineScope scope(dl);
      const int64_t p0 = t * depth, kb = std::min(depth, k - p0);
      double* out = t == 0 ? C : parts + (t - 1) * m * n;
      blasBlocks(dgemm, m, n, kb, tA ? A + p0 * lda : A + p0, lda, tA, tB ? B + p0 : B + p0 * ldb, ldb, tB, out, n);
    });
    for (int64_t t = 1; t < count; t++) {
      const double* p = parts + (t - 1) * m * n;
      for (int64_t i = 0; i < m * n; i++) C[i] += p[i];
    }
    return anyNonFinite(C, m * n);
  }
  const int64_t side = byRows ? m : n;
  const int64_t want = work < (double)(1 << 24) ? T : 4 * T;
  // pieces of whole strips of BLAS's kernel (OpenBLAS: 8 of C's rows, 4 of its columns), as even as that allows
  const int64_t unit = byRows ? 8 : 4;
  const int64_t piece = std::max<int64_t>(unit, ((side + want - 1) / want + unit - 1) / unit * unit);
  const int64_t count = (side + piece - 1) / piece;
  // each piece of C is scanned for Inf and NaN by the thread that made it, while it is in that core's cache
  std::atomic<bool> nonFinite{false};
  Pool::get().run(count, [&](int64_t t) {
    const DeadlineScope scope(dl);
    const int64_t s0 = t * piece, len = std::min(piece, side - s0);
    bool found = false;
    if (byRows) {
      blasBlocks(dgemm, len, n, k, tA ? A + s0 : A + s0 * lda, lda, tA, B, ldb, tB, C + s0 * n, n);
      found = anyNonFinite(C + s0 * n, len * n);
    } else {
      blasBlocks(dgemm, m, len, k, A, lda, tA, tB ? B + s0 * ldb : B + s0, ldb, tB, C + s0, n);
      for (int64_t i = 0; i < m && !found; i++) found = anyNonFinite(C + i * n + s0, len);
    }
    if (found) nonFinite.store(true, std::memory_order_relaxed);
  });
  return nonFinite.load(std::memory_order_relaxed);
}

/**
 * C = op(A)·op(B) by the fastest way at this size; IEEE special values as the kernel meets
 * them. Returns whether C holds an Inf or NaN.
 */
bool gemmFast(int64_t m, int64_t n, int64_t k, const double* A, bool tA, const double* B, bool tB, double* C) {
  if ((double)m * n * k < GEMM_SMALL || k == 0) {
    gemmReference(m, n, k, A, tA, B, tB, C);
    return anyNonFinite(C, m * n);
  }
  const Blas& b = blas();
  // CBLAS takes int dimensions (LP64); larger products stay with the built-in kernel
  if (!b.dgemm || m > INT_MAX || n > INT_MAX || k > INT_MAX) {
    gemmBlocked(m, n, k, A, tA, B, tB, C);
    return anyNonFinite(C, m * n);
  }
  const int M = (int)m, N = (int)n, K = (int)k;
  const int T = (double)m * n * k >= POOL_FROM && !inWorker ? poolThreads(b) : 1;
  if (n == 1 || m == 1) {
    // C [m,1] = op(A)·b (b is contiguous whether or not it is read transposed), or C [1,n]
    // = a·op(B), i.e. Cᵀ = op(B)ᵀ·aᵀ: one matrix-vector product, its entries of C in pieces
    // over the pool when large (OpenBLAS runs one thread per call then)
    const bool col = n == 1;
    const int64_t len = col ? m : n;
    const int64_t piece = T > 1 ? std::max<int64_t>(64, (len + 4 * T - 1) / (4 * T)) : len;
    const Deadline* dl = runningDeadline;
    const auto part = [&](int64_t t) {
      const DeadlineScope scope(dl);
      const int64_t s0 = t * piece, l = std::min(piece, len - s0);
      checkWork((double)l * k);
      if (col)
        b.dgemv(kRowMajor, tA ? kTrans : kNoTrans, tA ? K : (int)l, tA ? (int)l : K, 1.0, tA ? A + s0 : A + s0 * k, tA ? M : K, B, 1, 0.0,
                C + s0, 1);
      else
        b.dgemv(kRowMajor, tB ? kNoTrans : kTrans, tB ? (int)l : K, tB ? K : (int)l, 1.0, tB ? B + s0 * k : B + s0, tB ? K : N, A, 1, 0.0,
                C + s0, 1);
    };
    const int64_t count = (len + piece - 1) / piece;
    if (count > 1) Pool::get().run(count, part);
    else part(0);
  } else {
    // a product of moderate size on the AVX-512 kernel where the CPU has it, split over the pool as BLAS's are
    Dgemm dgemm = b.dgemm;
#ifdef AG_AVX512
    if (n >= NR_512 && (double)m * n * k <= AVX512_MAX && avx512Kernel()) dgemm = dgemmAvx512;
#endif
    if (T > 1) return blasPool(dgemm, T, m, n, k, A, tA, B, tB, C);
    blasBlocks(dgemm, m, n, k, A, tA ? m : k, tA, B, tB ? k : n, tB, C, n);
  }
  return anyNonFinite(C, m * n);
}

/** Below this, k products of at most rowMax·colMax each cannot overflow, however summed. */
constexpr double OVERFLOW_SAFE = 1e308;

/**
 * Σ a_p·b_p (strides as, bs) the way IEEE rounds the exact sum, whatever the order: a
 * product with an infinite or NaN factor is IEEE's (0·Inf = NaN; +Inf and −Inf give NaN);
 * finite products are summed scaled by powers of two (exactly), so an overflow is ±Inf
 * with the sign of the sum, never a NaN of +Inf − Inf or the sign of whichever partial
 * sum overflowed first (FMA kernels, BLAS). src/ops/linalg.ts dotExact is the same.
 */
double dotExact(int64_t k, const double* a, int64_t as, const double* b, int64_t bs) {
  double special = 0;
  bool anySpecial = false;
  double ma = 0, mb = 0;
  for (int64_t p = 0; p < k; p++) {
    const double x = a[p * as], y = b[p * bs];
    if (!std::isfinite(x) || !std::isfinite(y)) special += x * y, anySpecial = true;
    else ma = std::max(ma, std::fabs(x)), mb = std::max(mb, std::fabs(y));
  }
  if (anySpecial) return special;  // ±Inf or NaN: no finite product changes it
  int ea = 0, eb = 0;
  if (ma > 1) std::frexp(ma, &ea);
  if (mb > 1) std::frexp(mb, &eb);
  const double sa = std::ldexp(1.0, -ea), sb = std::ldexp(1.0, -eb);
  double t = 0;
  for (int64_t p = 0; p < k; p++) t += (a[p * as] * sa) * (b[p * bs] * sb);
  return std::ldexp(std::ldexp(t, ea), eb);
}

}  // namespace

void gemm(int64_t m, int64_t n, int64_t k, const double* A, bool tA, const double* B, bool tB, double* C) {
  if (m == 0 || n == 0) return;
  // only a non-finite entry can depend on the order of the sum, and only where finite
  // products could overflow: elsewhere it comes from Inf or NaN inputs alone, which every
  // order sums alike (src/ops/linalg.ts gemm does the same)
  if (!gemmFast(m, n, k, A, tA, B, tB, C)) return;
  std::vector<double> rowMax(m, 0.0), colMax(n, 0.0);
  auto finiteMax = [](double& mx, double x) {
    if (std::isfinite(x) && std::fabs(x) > mx) mx = std::fabs(x);
  };
  for (int64_t i = 0; i < m; i++)
    for (int64_t p = 0; p < k; p++) finiteMax(rowMax[i], tA ? A[p * m + i] : A[i * k + p]);
  for (int64_t j = 0; j < n; j++)
    for (int64_t p = 0; p < k; p++) finiteMax(colMax[j], tB ? B[j * k + p] : B[p * n + j]);
  auto redo = [&](int64_t i, int64_t j) { return !std::isfinite(C[i * n + j]) && rowMax[i] * colMax[j] * (double)k >= OVERFLOW_SAFE; };
  auto bAt = [&](int64_t p, int64_t j) { return tB ? B[j * k + p] : B[p * n + j]; };
  // dotExact's sum of the products with an Inf or NaN factor, a row of C at a time (as
  // src/ops/linalg.ts gemm): such sums are ±Inf or NaN in any order
  std::vector<std::vector<int64_t>> bSpecial(k);
  for (int64_t p = 0; p < k; p++)
    for (int64_t j = 0; j < n; j++)
      if (!std::isfinite(bAt(p, j))) bSpecial[p].push_back(j);
  std::vector<double> sp(n);
  std::vector<char> has(n);
  for (int64_t i = 0; i < m; i++) {
    bool any = false;
    for (int64_t j = 0; j < n && !any; j++) any = redo(i, j);
    if (!any) continue;
    // a row's recompute is up to k·n multiply-adds: the deadline is checked row by row
    checkWork((double)n * k);
    std::fill(sp.begin(), sp.end(), 0.0);
    std::fill(has.begin(), has.end(), 0);
    for (int64_t p = 0; p < k; p++) {
      const double a = tA ? A[p * m + i] : A[i * k + p];
      if (!std::isfinite(a)) {
        for (int64_t j = 0; j < n; j++) sp[j] += a * bAt(p, j);
        std::fill(has.begin(), has.end(), 1);
      } else {
        for (int64_t j : bSpecial[p]) sp[j] += a * bAt(p, j), has[j] = 1;
      }
    }
    for (int64_t j = 0; j < n; j++)
      if (redo(i, j)) C[i * n + j] = has[j] ? sp[j] : dotExact(k, tA ? A + i : A + i * k, tA ? m : 1, tB ? B + j * k : B + j, tB ? 1 : n);
  }
}

void* blasSymbol(const char* name) {
#ifdef AG_DLOPEN
  const Blas& b = blas();
  return b.handle ? dlsym(b.handle, name) : nullptr;
#else
  (void)name;
  return nullptr;
#endif
}

std::string blasName() { return blas().name; }
bool avx512Products() { return blas().dgemm && avx512Kernel(); }
std::string blasFrom() { return blas().from; }
int blasThreads() {
  const Blas& b = blas();
  if (!b.dgemm) return (int)kernelThreads();
  const int pool = poolThreads(b);
  return pool > 1 ? pool : b.threads ? b.threads() : 1;
}

BlasOwnThreads::BlasOwnThreads() {
  const Blas& b = blas();
  if (b.dgemm && poolThreads(b) > 1) b.setThreads(poolThreads(b));
}

BlasOwnThreads::~BlasOwnThreads() {
  const Blas& b = blas();
  if (b.dgemm && poolThreads(b) > 1) b.setThreads(1);
}

}  // namespace ag
