import { describe, expect, it } from 'vitest';
import { cli, cliJson } from '../helpers.js';

/** Numeric trouble is explained, not hidden: NaN/Inf, kinks, ill-conditioned differences. */
describe('numeric trouble through the CLI', () => {
  it('a NaN value names the node where it starts and exits 1', () => {
    const r = cli(['grad', 'log(x - y) + x', '--at', 'x=0.7,y=1']);
    expect(r.code).toBe(1);
    // a warning longer than the width (100 off a terminal) wraps; read it as one line
    expect(oneLine(r.stdout)).toMatch(/the value is NaN: it starts at log \(log\(x - y\) at column 1\), which gives NaN for the argument -0\.3/);
    expect(r.stdout).toMatch(/✗ check failed/);
  });

  it('an infinite gradient names the edge and its local derivative, exit 1', () => {
    const { code, json } = cliJson(['grad', 'sqrt(x) + y', '--at', 'x=0,y=1']);
    expect(code).toBe(1);
    expect(json.gradient.x).toBe('Infinity');
    const w = json.warnings.find((x: any) => x.code === 'nonfinite');
    expect(w.message).toMatch(
      /the gradient becomes Infinity at sqrt \(sqrt\(x\) at column 1\): its local derivative 1\/\(2\*sqrt\(x\)\) is not finite at x = 0/,
    );
  });

  it('a point on a kink is reported, not failed (beside judged entries); a check that judged nothing fails', () => {
    const none = cliJson(['grad', 'abs(x) + relu(y) + max(z, w)', '--at', 'x=0,y=0,z=1,w=1']);
    expect(none.code).toBe(1);
    expect(none.json.check.passed).toBe(false);
    expect(none.json.check.unjudgedReason).toMatch(/judged none of the 4 entries: nothing judged is not a pass/);
    const { code, json } = cliJson(['grad', 'abs(x) + relu(y) + max(z, w) + v^2', '--at', 'x=0,y=0,z=1,w=1,v=1']);
    expect(code).toBe(0);
    expect(json.check.passed).toBe(true);
    const kinks = json.warnings.filter((x: any) => x.code === 'kink').map((x: any) => x.message);
    expect(kinks).toHaveLength(4);
    expect(kinks[0]).toMatch(/^x: the point sits on a kink \(abs at 0, abs\(x\) at column 1\)/);
    expect(kinks[1]).toMatch(/^y: the point sits on a kink \(relu at 0/);
    expect(kinks[2]).toMatch(/^z: the point sits on a kink \(max at a tie/);
    // PyTorch's conventions at the kinks
    expect(json.gradient).toEqual({ x: 0, y: 0, z: 0.5, w: 0.5, v: 2 });
  });

  it('a fixed step that crosses a conditional boundary is reported; adaptive steps stay on one side', () => {
    const r = cli(['grad', 'x > 0 ? x^2 : -x', '--at', 'x=1e-7', '--eps', '1e-5']);
    // the only entry is not judged: nothing judged is not a pass
    expect(r.code).toBe(1);
    expect(oneLine(r.stdout)).toMatch(/x: a step of ±1e-5 crosses a kink \(a comparison's boundary, x > 0 at column 1\)/);
    expect(oneLine(r.stdout)).toMatch(
      /✗ check failed: finite differences could not judge the only entry: nothing judged is not a pass — a step above 6.1e-6 \(--eps\)/,
    );
    const a = cliJson(['grad', 'x > 0 ? x^2 : -x', '--at', 'x=1e-7']);
    expect(a.json.check.steps).toBe('adaptive');
    expect(a.json.check.kinks).toEqual([]);
    expect(a.json.check.passed).toBe(true);
    expect(a.json.check.maxRelError).toBeLessThan(1e-9);
  });

  it('ill-conditioned differences get a warning with the estimated error', () => {
    const { code, json } = cliJson(['grad', '(x + 1e10) - 1e10 + x^2', '--at', 'x=1']);
    expect(code).toBe(1);
    expect(json.check.unjudgedReason).toMatch(/nothing judged is not a pass/);
    const w = json.warnings.find((x: any) => x.code === 'noisy');
    expect(w.message).toMatch(/finite differences cannot judge x: rounding dominates at every step tried \(±[\d.e-]+ … ±[\d.e-]+; estimated error [\d.e-]+\)/);
    expect(w.message).toMatch(/--eps/);
    expect(json.gradient.x).toBe(3);
    const fixed = cliJson(['grad', '(x + 1e10) - 1e10 + x^2', '--at', 'x=1', '--eps', '1e-5']);
    expect(fixed.json.warnings.find((x: any) => x.code === 'noisy').message).toMatch(/--method richardson/);
  });

  it('richardson extrapolation is more accurate than central differences on a curved function', () => {
    const c = cliJson(['grad', 'exp(3*x)', '--at', 'x=1', '--eps', '1e-3']);
    const r = cliJson(['grad', 'exp(3*x)', '--at', 'x=1', '--eps', '1e-3', '--method', 'richardson']);
    expect(r.json.check.method).toBe('richardson');
    expect(r.json.check.maxAbsError).toBeLessThan(c.json.check.maxAbsError / 100);
  });
});

/** Human output with wrapped lines joined back (a continuation line starts with spaces). */
function oneLine(text: string): string {
  return text.replace(/\n +/g, ' ');
}
