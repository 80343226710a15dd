/** Numbers as people read them: in messages, tables and reports alike. */

/** A number in `digits` significant digits, trimmed (`-6.28319`, `1.22465e-16`). */
export function num(v: number, digits = 6): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-4 && a < 1e7) return String(Number(v.toPrecision(digits)));
  const [m, e] = v.toExponential(digits - 1).split('e');
  return `${String(Number(m))}e${e.replace('+', '')}`;
}

/** A short error number like `3.8e-10`. */
export function err(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  return v.toExponential(1).replace('e+', 'e');
}

/** A duration: `0.406 ms`, `12.34 ms`, `1532 ms`. */
export function ms(v: number): string {
  return v < 1 ? `${v.toFixed(3)} ms` : v < 100 ? `${v.toFixed(2)} ms` : `${v.toFixed(0)} ms`;
}
