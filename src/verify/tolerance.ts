/**
 * The tolerance model: an entry passes when |ad − fd| ≤ atol + rtol·max(|ad|, |fd|).
 * Central differences with the default step are accurate to about 1e-10 relative on
 * well-conditioned functions, so these defaults leave room without hiding real bugs.
 */
export const DEFAULT_RTOL = 1e-5;
export const DEFAULT_ATOL = 1e-7;
/** relative step: cbrt(machine ε), the balance of truncation (h²) and rounding (ε/h) error */
export const DEFAULT_EPS = Math.cbrt(2.220446049250313e-16);
export const DEFAULT_FD_MAX = 2000;
/**
 * fdMax for a program over a pipe (gradcheck --exec / --module): an evaluation there
 * costs about a millisecond, not microseconds, so above this many entries the check is
 * a directional screen first and differences every entry only when the screen
 * disagrees (FunctionCheckOptions.escalate).
 */
export const PROGRAM_FD_MAX = 256;
export const DEFAULT_DIRECTIONS = 4;
export const DEFAULT_SAMPLE = 64;

export interface Tolerance {
  rtol: number;
  atol: number;
}

export function withinTolerance(ad: number, fd: number, tol: Tolerance): boolean {
  return Math.abs(ad - fd) <= tol.atol + tol.rtol * Math.max(Math.abs(ad), Math.abs(fd));
}

export function relError(ad: number, fd: number): number {
  const scale = Math.max(Math.abs(ad), Math.abs(fd));
  return scale === 0 ? 0 : Math.abs(ad - fd) / scale;
}
