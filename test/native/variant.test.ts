import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/core/engine/native.js';

/**
 * Which build the native tests ran against. `node scripts/build-native.mjs --variant X --test`
 * sets AUTOGRAD_NATIVE_VARIANT and AUTOGRAD_NATIVE_PATH, so a CI log proves that the
 * prebuild, no-BLAS, node-gyp and sanitizer builds each passed the parity tests.
 */
const variant = process.env.AUTOGRAD_NATIVE_VARIANT ?? 'default';

describe(`native build under test: ${variant}`, () => {
  it('is the one loaded, with the properties of its variant', () => {
    const s = loadNative();
    expect(s.reason).toBe('');
    const info = s.info!;
    if (process.env.AUTOGRAD_NATIVE_PATH) expect(s.path).toContain(process.env.AUTOGRAD_NATIVE_PATH.replace(/^\.\//, ''));
    switch (variant) {
      case 'noblas':
        expect(info.blas).toBe('built-in kernel');
        expect(info.blasFrom).toBe('built without BLAS');
        expect(info.buildSystem).toBe('cmake-js');
        break;
      case 'prebuild':
        expect(s.path).toMatch(/prebuilds[/\\][a-z0-9]+-[a-z0-9]+[/\\]autograd_native\.napi\.node$/);
        expect(info.buildSystem).toBe('cmake-js');
        expect(info.sanitizers).toBe('');
        break;
      case 'prebuild-v3':
        expect(s.path).toMatch(/prebuilds[/\\]linux-x64[/\\]autograd_native\.v3\.napi\.node$/);
        expect(info.buildSystem).toBe('cmake-js');
        expect(info.sanitizers).toBe('');
        break;
      case 'gyp':
        expect(info.buildSystem).toBe('node-gyp');
        break;
      case 'asan':
        expect(info.sanitizers).toBe('address,undefined');
        // the sanitizer runtime is really in this process (preloaded), not just compiled in
        expect(readFileSync('/proc/self/maps', 'utf8')).toMatch(/libasan/);
        break;
      default:
        expect(['cmake-js', 'node-gyp']).toContain(info.buildSystem);
        expect(info.sanitizers).toBe('');
    }
  });
});
