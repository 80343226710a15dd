import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/core/engine/native.js';
import { cli } from '../helpers.js';

/**
 * The BLAS is found at run time (native/src/gemm.cc): a CBLAS library loaded with dlopen
 * (OpenBLAS first), else the built-in kernel; AUTOGRAD_BLAS=none forces the kernel and
 * AUTOGRAD_BLAS=<file> picks a library. Each setting is looked at once per process, so
 * each runs in its own CLI process against the build under test.
 */
const built = loadNative().info!;
const withBlas = built.blasFrom !== 'built without BLAS';

/** 64×64 products: above the BLAS threshold, so forward and backward go through gemm. */
const MATMUL = ['grad', 'sum((A*B).^2)', '--at', 'A=randn(64,64),B=randn(64,64)', '--seed', '7', '--json'];

function doctor(env: Record<string, string>) {
  const r = cli(['doctor', '--json'], { env });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function gradientA(env: Record<string, string>, engine = 'native'): number[] {
  const r = cli([...MATMUL, '--engine', engine], { env });
  expect(r.code, r.stderr).toBe(0);
  const j = JSON.parse(r.stdout);
  expect(j.check.passed).toBe(true);
  return (j.gradient.A as number[][]).flat();
}

describe(`BLAS chosen at run time (${withBlas ? 'a build that looks for one' : 'a build without BLAS'})`, () => {
  it('by default: a CBLAS library when the machine has one, named with its file', () => {
    const d = doctor({});
    if (!withBlas) expect(d.blasFrom).toBe('built without BLAS');
    else if (d.blas === 'built-in kernel') expect(d.blasFrom).toMatch(/^no CBLAS found \(tried libopenblas/);
    else expect(d.blasFrom).toMatch(/\.(so(\.\d+)*|dylib)$|Accelerate$/);
  });

  it('AUTOGRAD_BLAS=none: the built-in kernel, on its own threads', () => {
    const d = doctor({ AUTOGRAD_BLAS: 'none' });
    expect(d.blas).toBe('built-in kernel');
    expect(d.blasFrom).toBe(withBlas ? 'AUTOGRAD_BLAS=none' : 'built without BLAS');
    expect(d.blasThreads).toBeGreaterThanOrEqual(1);
  });

  it('a library that cannot be loaded, or has no CBLAS in it: the built-in kernel, and why', () => {
    const missing = doctor({ AUTOGRAD_BLAS: '/nonexistent/libopenblas.so.0' });
    expect(missing.blas).toBe('built-in kernel');
    if (withBlas) expect(missing.blasFrom).toMatch(/^AUTOGRAD_BLAS=\/nonexistent\/libopenblas\.so\.0: .*(No such file|not found|no such)/i);
    else expect(missing.blasFrom).toBe('built without BLAS');
    if (withBlas && process.platform === 'linux') {
      const libm = doctor({ AUTOGRAD_BLAS: 'libm.so.6' });
      expect(libm.blas).toBe('built-in kernel');
      expect(libm.blasFrom).toBe('AUTOGRAD_BLAS=libm.so.6: libm.so.6 has no cblas_dgemm/cblas_dgemv');
    }
  });

  it('the BLAS, the built-in kernel and the TypeScript engine give the same gradient (up to summation order)', () => {
    const blas = gradientA({});
    const kernel = gradientA({ AUTOGRAD_BLAS: 'none' });
    const blasOnly = gradientA({ AUTOGRAD_AVX512: '0' });
    const js = gradientA({}, 'js');
    const scale = Math.max(...js.map(Math.abs));
    const maxDiff = (a: number[]) => Math.max(...a.map((v, i) => Math.abs(v - js[i])));
    expect(maxDiff(blas)).toBeLessThan(1e-12 * scale);
    expect(maxDiff(kernel)).toBeLessThan(1e-12 * scale);
    expect(maxDiff(blasOnly)).toBeLessThan(1e-12 * scale);
  });

  it('products of moderate size run on the built-in AVX-512 kernel exactly where a BLAS is loaded and this CPU has AVX-512F (AUTOGRAD_AVX512=0: on BLAS)', () => {
    const d = doctor({});
    const flags = process.platform === 'linux' && process.arch === 'x64' ? (/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'latin1'))?.[1] ?? '') : '';
    const avx512 = flags.split(/\s+/).includes('avx512f');
    expect(d.avx512Products).toBe(withBlas && d.blas !== 'built-in kernel' && avx512);
    expect(doctor({ AUTOGRAD_AVX512: '0' }).avx512Products).toBe(false);
    expect(doctor({ AUTOGRAD_BLAS: 'none' }).avx512Products).toBe(false);
    // the doctor's text says so on its own line
    const text = cli(['doctor'], { env: {} }).stdout;
    if (d.avx512Products) expect(text).toMatch(/^products +up to 2\^24 multiply-adds on the built-in AVX-512 kernel/m);
    else expect(text).not.toMatch(/^products /m);
  });
});
