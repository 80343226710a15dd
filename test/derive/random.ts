import { Rng } from '../../src/core/random.js';
import type { Tensor } from '../../src/core/tensor.js';

/** Random tensors for derive's fixtures, from one seeded generator. */
export function randomTensors(seed: number) {
  const rng = new Rng(seed);
  const randn = (...shape: number[]): Tensor => ({ shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()) });
  /** A·Aᵀ + 3·I: symmetric positive definite, so det(inv(X)) > 0 and its log is defined */
  const spd = (n: number): Tensor => {
    const a = randn(n, n);
    const data = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) data[i * n + j] += a.data[i * n + k] * a.data[j * n + k];
    for (let i = 0; i < n; i++) data[i * n + i] += 3;
    return { shape: [n, n], data };
  };
  return { randn, spd };
}
