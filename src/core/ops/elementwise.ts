import type { Tensor } from '../tensor.js';
import { at, branchWeight, broadcastShape, operands } from './broadcast.js';
import { argName, type GraphNode, type GraphOps, type OpDef } from './types.js';

/**
 * Elementwise ops, written as scalar rules: the value, and the partial derivative with
 * respect to each argument as a formula in the arguments a, b, … and the result s. The
 * formulas are the only statement of the derivative: the builder below turns them into
 * the graph rules (vjp: upstream × partial, jvp: Σ partial × tangent), which the engines
 * run, print and differentiate again, so each rule reads like a line of a calculus table.
 */
export interface ScalarRule {
  f: (...args: number[]) => number;
  /** one partial ∂s/∂arg per argument, as a formula in a, b, … and s */
  local: string[];
  /** per-argument branch code where the rule has a kink (sign of a, which side wins …) */
  branch?: (...args: number[]) => number;
  kink?: string;
  /** sample domain per argument for property tests */
  domain?: [number, number][];
  constantOutput?: boolean;
  label?: string;
}

export interface ElementwiseDef extends OpDef {
  rules: ScalarRule[]; // indexed by arity - 1
  domains: [number, number][][];
  /** an op of any number of arguments (max, min): the rule for n of them, past those in `rules` */
  variadic?: (n: number) => ScalarRule;
}

const variadicRules = new WeakMap<ElementwiseDef, Map<number, ScalarRule>>();

export function ruleFor(def: ElementwiseDef, arity: number): ScalarRule {
  const r = def.rules[arity - 1];
  if (r) return r;
  if (def.variadic && arity >= def.arity[0]) {
    const cache = variadicRules.get(def) ?? variadicRules.set(def, new Map()).get(def)!;
    return cache.get(arity) ?? cache.set(arity, def.variadic(arity)).get(arity)!;
  }
  throw new Error(`no rule for ${arity} arguments`);
}

export function elementwise(name: string, rules: (ScalarRule | undefined)[], variadic?: (n: number) => ScalarRule): ElementwiseDef {
  const arities = rules.map((r, i) => (r ? i + 1 : 0)).filter((a) => a > 0);
  const anyRule = rules.find((r) => r) as ScalarRule;
  const def: ElementwiseDef = {
    name,
    family: anyRule.constantOutput ? 'compare' : 'elementwise',
    arity: [Math.min(...arities), variadic ? Infinity : Math.max(...arities)],
    variadic,
    rules: rules as ScalarRule[],
    domains: rules.map((r) => r?.domain ?? []),
    shape: broadcastShape,
    label: anyRule.label,
    constantOutput: anyRule.constantOutput,
    kink: anyRule.kink,
    forward(ins, _attrs, out) {
      const rule = ruleFor(def, ins.length);
      const n = out.length;
      if (ins.length === 1) {
        const a = ins[0].data;
        const f = rule.f;
        if (a.length === n) for (let k = 0; k < n; k++) out[k] = f(a[k]);
        else for (let k = 0; k < n; k++) out[k] = f(a[0]);
        return;
      }
      const ops = operands(ins, broadcastShapeOf(ins), n);
      if (ins.length === 2) {
        const [A, B] = ops;
        for (let k = 0; k < n; k++) out[k] = rule.f(at(A, k), at(B, k));
        return;
      }
      const args = new Array<number>(ins.length);
      for (let k = 0; k < n; k++) {
        for (let i = 0; i < ops.length; i++) args[i] = at(ops[i], k);
        out[k] = rule.f(...args);
      }
    },
    // upstream ⊙ ∂s/∂arg_i, output-shaped (the gradient builder sums a broadcast input back);
    // gmul: a zero upstream gradient contributes nothing, even where the partial is infinite
    vjpGraph(G, ins, out, g, _attrs, need) {
      const rule = ruleFor(def, ins.length);
      return ins.map((_, i) => {
        const p = need[i] ? partialGraph(G, rule, i, ins, out) : null;
        return p === null ? null : G.op('gmul', [g, asOutput(G, p, out)]);
      });
    },
    // Σ tangent_i ⊙ ∂s/∂arg_i (a zero tangent contributes nothing, likewise)
    jvpGraph(G, ins, out, dots) {
      const rule = ruleFor(def, ins.length);
      let t: GraphNode | null = null;
      ins.forEach((_, i) => {
        const dot = dots[i];
        const p = dot === null ? null : partialGraph(G, rule, i, ins, out);
        if (p === null || dot === null) return;
        const term = G.op('gmul', [asOutput(G, dot, out), asOutput(G, p, out)]);
        t = t === null ? term : G.add(t, term);
      });
      return t;
    },
  };
  madeRules.set(def, { vjpGraph: def.vjpGraph, jvpGraph: def.jvpGraph });
  if (rules.some((r) => r?.branch)) {
    def.branch = (ins) => {
      const rule = ruleFor(def, ins.length);
      if (!rule.branch) return 0;
      const shape = broadcastShapeOf(ins);
      const n = shape.reduce((p, d) => p * d, 1);
      const ops = operands(ins, shape, n);
      const args = new Array<number>(ins.length);
      let code = 0;
      for (let k = 0; k < n; k++) {
        for (let j = 0; j < ops.length; j++) args[j] = at(ops[j], k);
        code += (rule.branch(...args) + 2) * branchWeight(k);
      }
      return code;
    };
  }
  return def;
}

/** The ops made by `elementwise`, with the graph rules written there (see `entrywiseRules`). */
const madeRules = new WeakMap<ElementwiseDef, Pick<OpDef, 'vjpGraph' | 'jvpGraph'>>();

/**
 * The op's scalar rules when its graph rules are still the ones `elementwise` wrote
 * (upstream × partial, Σ tangent × partial), so a partial can be computed entry by entry;
 * undefined for any other op.
 */
export function entrywiseRules(def: OpDef): ElementwiseDef | undefined {
  const ew = def as ElementwiseDef;
  const made = madeRules.get(ew);
  return made && made.vjpGraph === ew.vjpGraph && made.jvpGraph === ew.jvpGraph ? ew : undefined;
}

/** ∂s/∂arg_i as graph ops (null where it is 0: comparisons, steps, select's condition). */
export function partialGraph(G: GraphOps, rule: ScalarRule, i: number, ins: GraphNode[], out: GraphNode): GraphNode | null {
  const text = rule.local[i];
  if (rule.constantOutput || text === '0') return null;
  const names: Record<string, GraphNode> = { s: out };
  ins.forEach((id, j) => (names[argName(j)] = id));
  return G.formula(text, names);
}

/**
 * A tensor read against the output, as the numeric rules read every operand (a vector
 * beside a column and a matrix is a row of the matrix, whatever it would be beside the
 * column alone); scalars broadcast the same either way.
 */
function asOutput(G: GraphOps, x: GraphNode, out: GraphNode): GraphNode {
  return G.shape(x).length === 0 ? x : G.broadcastTo(x, G.shape(out));
}

function broadcastShapeOf(ins: Tensor[]) {
  return broadcastShape(
    ins.map((t) => t.shape),
    {},
  );
}

// ----- helpers for the rules -----
const sgn = (v: number) => (v > 0 ? 1 : v < 0 ? -1 : 0);
const sigmoid = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
// log(1 + e^v) without overflow: max(v,0) + log1p(e^-|v|)
const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

/**
 * erf(v) = 2/√π · e^(−v²) · Σ_n v·(2v²)^n / (2n+1)!!: every term is positive, so the sum
 * loses nothing to cancellation (the Taylor series does, near |v| = 3); past |v| = 6,
 * erf is ±1 to double precision.
 */
function erfOf(v: number): number {
  if (Number.isNaN(v)) return v;
  if (Math.abs(v) >= 6) return Math.sign(v);
  const x2 = 2 * v * v;
  let term = v;
  let sum = v;
  for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-v * v) * sum;
}

const ANY: [number, number] = [-3, 3];
const POS: [number, number] = [0.2, 4];
const UNIT: [number, number] = [-0.9, 0.9];
const u = (f: ScalarRule['f'], local: string, extra: Partial<ScalarRule> = {}): ScalarRule => ({ f, local: [local], domain: [ANY], ...extra });
const b = (f: ScalarRule['f'], local: [string, string], extra: Partial<ScalarRule> = {}): ScalarRule => ({ f, local, domain: [ANY, ANY], ...extra });

// ----- Arithmetic -----
export const add = elementwise('add', [undefined, b((a, c) => a + c, ['1', '1'], { label: 'add' })]);
export const subtract = elementwise('subtract', [undefined, b((a, c) => a - c, ['1', '-1'], { label: 'sub' })]);
export const multiply = elementwise('multiply', [undefined, b((a, c) => a * c, ['b', 'a'], { label: 'mul' })]);
/**
 * upstream × partial, the product every gradient is made of: a zero upstream gradient
 * contributes nothing, even where the partial is infinite (0·Inf would be NaN). Printed
 * as an ordinary product.
 */
export const gmul = elementwise('gmul', [undefined, b((a, c) => (a === 0 ? 0 : a * c), ['b', 'a'], { label: 'mul' })]);
export const divide = elementwise('divide', [undefined, b((a, c) => a / c, ['1/b', '-a/b^2'], { label: 'div', domain: [ANY, POS] })]);
// d/da a^b = b·a^(b-1) (0 when b = 0, as PyTorch); d/db a^b = s·log(a) (0 at a = 0 with b ≥ 0, as PyTorch)
export const pow = elementwise('pow', [
  undefined,
  b((a, c) => Math.pow(a, c), ['b == 0 ? 0 : b*a^(b-1)', 'a == 0 and b >= 0 ? 0 : s*log(a)'], { label: 'pow', domain: [POS, [-2, 2]] }),
]);
export const unaryMinus = elementwise('unaryMinus', [u((a) => -a, '-1', { label: 'neg' })]);
export const unaryPlus = elementwise('unaryPlus', [u((a) => a, '1', { label: 'pos' })]);

// ----- Trigonometric -----
export const sin = elementwise('sin', [u(Math.sin, 'cos(a)')]);
export const cos = elementwise('cos', [u(Math.cos, '-sin(a)')]);
export const tan = elementwise('tan', [u(Math.tan, '1 + tan(a)^2', { domain: [[-1.2, 1.2]] })]);
export const sec = elementwise('sec', [u((a) => 1 / Math.cos(a), 'sec(a)*tan(a)', { domain: [[-1.2, 1.2]] })]);
export const csc = elementwise('csc', [u((a) => 1 / Math.sin(a), '-csc(a)*cot(a)', { domain: [[0.3, 2.8]] })]);
export const cot = elementwise('cot', [u((a) => 1 / Math.tan(a), '-1/sin(a)^2', { domain: [[0.3, 2.8]] })]);
export const asin = elementwise('asin', [u(Math.asin, '1/sqrt(1 - a^2)', { domain: [UNIT] })]);
export const acos = elementwise('acos', [u(Math.acos, '-1/sqrt(1 - a^2)', { domain: [UNIT] })]);
export const atan = elementwise('atan', [u(Math.atan, '1/(1 + a^2)')]);
export const atan2 = elementwise('atan2', [undefined, b(Math.atan2, ['b/(a^2 + b^2)', '-a/(a^2 + b^2)'], { domain: [POS, POS] })]);

export const asec = elementwise('asec', [u((a) => Math.acos(1 / a), '1/(abs(a)*sqrt(a^2 - 1))', { domain: [[1.2, 4]] })]);
export const acsc = elementwise('acsc', [u((a) => Math.asin(1 / a), '-1/(abs(a)*sqrt(a^2 - 1))', { domain: [[1.2, 4]] })]);
export const acot = elementwise('acot', [u((a) => Math.atan(1 / a), '-1/(1 + a^2)', { domain: [POS] })]);

// ----- Hyperbolic -----
export const sinh = elementwise('sinh', [u(Math.sinh, 'cosh(a)')]);
export const cosh = elementwise('cosh', [u(Math.cosh, 'sinh(a)')]);
export const tanh = elementwise('tanh', [u(Math.tanh, '1 - s^2')]);
export const asinh = elementwise('asinh', [u(Math.asinh, '1/sqrt(a^2 + 1)')]);
export const acosh = elementwise('acosh', [u(Math.acosh, '1/sqrt(a^2 - 1)', { domain: [[1.2, 4]] })]);
export const sech = elementwise('sech', [u((a) => 1 / Math.cosh(a), '-sech(a)*tanh(a)')]);
export const csch = elementwise('csch', [u((a) => 1 / Math.sinh(a), '-csch(a)*coth(a)', { domain: [POS] })]);
export const coth = elementwise('coth', [u((a) => 1 / Math.tanh(a), '-1/sinh(a)^2', { domain: [POS] })]);
export const asech = elementwise('asech', [u((a) => Math.acosh(1 / a), '-1/(a*sqrt(1 - a^2))', { domain: [[0.2, 0.9]] })]);
export const acsch = elementwise('acsch', [u((a) => Math.asinh(1 / a), '-1/(abs(a)*sqrt(1 + a^2))', { domain: [POS] })]);
export const acoth = elementwise('acoth', [u((a) => Math.atanh(1 / a), '1/(1 - a^2)', { domain: [[1.2, 4]] })]);
export const atanh = elementwise('atanh', [u(Math.atanh, '1/(1 - a^2)', { domain: [UNIT] })]);

// ----- Exponential and logarithmic -----
export const exp = elementwise('exp', [u(Math.exp, 's')]);
export const expm1 = elementwise('expm1', [u(Math.expm1, 'exp(a)')]);
// log(a) and log(a, b) = ln a / ln b
export const log = elementwise('log', [
  u(Math.log, '1/a', { domain: [POS] }),
  b((a, c) => Math.log(a) / Math.log(c), ['1/(a*log(b))', '-log(a)/(b*log(b)^2)'], { domain: [POS, [1.5, 4]] }),
]);
export const log2 = elementwise('log2', [u(Math.log2, '1/(a*log(2))', { domain: [POS] })]);
export const log10 = elementwise('log10', [u(Math.log10, '1/(a*log(10))', { domain: [POS] })]);
export const log1p = elementwise('log1p', [u(Math.log1p, '1/(1 + a)', { domain: [[-0.5, 3]] })]);
export const sqrt = elementwise('sqrt', [u(Math.sqrt, '1/(2*sqrt(a))', { domain: [POS] })]);
export const cbrt = elementwise('cbrt', [u(Math.cbrt, '1/(3*cbrt(a)^2)', { domain: [POS] })]);
// the error function, erf(a) = 2/√π ∫₀^a e^(−t²) dt
export const erf = elementwise('erf', [u(erfOf, '2/sqrt(pi)*exp(-a^2)')]);
// nthRoot(a, n): the real n-th root (negative a with odd n included, as mathjs)
const nthRoot = (a: number, n: number) => (a < 0 && Math.abs(n % 2) === 1 ? -Math.pow(-a, 1 / n) : Math.pow(a, 1 / n));
export const nthRootOp = elementwise('nthRoot', [undefined, b(nthRoot, ['s/(b*a)', '-s*log(abs(a))/b^2'], { domain: [POS, [2, 4]] })]);
export const square = elementwise('square', [u((a) => a * a, '2*a')]);
export const cube = elementwise('cube', [u((a) => a * a * a, '3*a^2')]);
export const hypot = elementwise('hypot', [
  undefined,
  b(Math.hypot, ['a/s', 'b/s'], {
    // not differentiable at the origin only: near it, the signs tell a step that passes by
    branch: (a, c) => (Math.abs(a) <= 1e-3 && Math.abs(c) <= 1e-3 ? 3 * sgn(a) + sgn(c) + 5 : 0),
    kink: 'hypot at (0, 0)',
  }),
]);

// ----- Piecewise (kinks) -----
export const abs = elementwise('abs', [u(Math.abs, 'sign(a)', { branch: sgn, kink: 'abs at 0' })]);
export const sign = elementwise('sign', [u(sgn, '0', { branch: sgn, kink: 'sign at 0', constantOutput: true })]);
// max/min of two: the gradient is routed to the larger (smaller); a tie splits it evenly, like torch.maximum
const max2 = b(Math.max, ['a > b ? 1 : (a == b ? 0.5 : 0)', 'b > a ? 1 : (a == b ? 0.5 : 0)'], { branch: (a, c) => sgn(a - c), kink: 'max at a tie' });
const min2 = b(Math.min, ['a < b ? 1 : (a == b ? 0.5 : 0)', 'b < a ? 1 : (a == b ? 0.5 : 0)'], { branch: (a, c) => sgn(a - c), kink: 'min at a tie' });
/**
 * max/min of n arguments, one op (not a fold of pairs, which gave 1/4, 1/4, 1/2 at a
 * three-way tie): the gradient goes to the arguments equal to the result, split evenly
 * among the k of them (1/k each; the jvp is the mean of their tangents, PyTorch's amax).
 * The branch code says which arguments win (a bit each), so a step that changes the set crossed a kink.
 */
function extremeRule(n: number, f: (...xs: number[]) => number, which: string): ScalarRule {
  const names = Array.from({ length: n }, (_, j) => argName(j));
  const count = names.map((x) => `(${x} == s)`).join(' + ');
  return {
    f,
    local: names.map((x) => `${x} == s ? 1/(${count}) : 0`),
    branch: (...xs: number[]) => {
      const s = f(...xs);
      let code = 0;
      for (let j = 0; j < n; j++) if (xs[j] === s) code += 2 ** (j % 52);
      return code;
    },
    kink: `${which} at a tie`,
    domain: names.map(() => ANY),
  };
}
// rules written out for 2 … 5 arguments (the tests walk them); more are made on first use
const EXTREME_LISTED = 5;
const extremeRules = (two: ScalarRule, f: (...xs: number[]) => number, which: string) => [
  undefined,
  two,
  ...Array.from({ length: EXTREME_LISTED - 2 }, (_, k) => extremeRule(k + 3, f, which)),
];
export const max = elementwise('max', extremeRules(max2, Math.max, 'max'), (n) => extremeRule(n, Math.max, 'max'));
export const min = elementwise('min', extremeRules(min2, Math.min, 'min'), (n) => extremeRule(n, Math.min, 'min'));

// rounding: flat almost everywhere (derivative 0, as PyTorch), jumping at the steps
const step = (name: string, f: (a: number) => number) => elementwise(name, [u(f, '0', { branch: f, kink: `${name} at a step`, constantOutput: true })]);
export const floor = step('floor', Math.floor);
export const ceil = step('ceil', Math.ceil);
export const round = step('round', (a) => Math.sign(a) * Math.round(Math.abs(a)));
export const fix = step('fix', Math.trunc);

// ----- Neural-net activations -----
export const sigmoidOp = elementwise('sigmoid', [u(sigmoid, 's*(1 - s)')]);
// relu'(0) = 0, as PyTorch
export const relu = elementwise('relu', [u((a) => (a > 0 ? a : 0), 'a > 0 ? 1 : 0', { branch: sgn, kink: 'relu at 0' })]);
export const softplusOp = elementwise('softplus', [u(softplus, 'sigmoid(a)')]);

// ----- Comparisons and logic (no derivative; used by cond ? a : b) -----
const cmp = (name: string, f: (a: number, c: number) => boolean) =>
  elementwise(name, [
    undefined,
    {
      f: (a, c) => (f(a, c) ? 1 : 0),
      local: ['0', '0'],
      constantOutput: true,
      branch: (a, c) => (f(a, c) ? 1 : 0),
      kink: "a comparison's boundary",
    },
  ]);
export const larger = cmp('larger', (a, c) => a > c);
export const smaller = cmp('smaller', (a, c) => a < c);
export const largerEq = cmp('largerEq', (a, c) => a >= c);
export const smallerEq = cmp('smallerEq', (a, c) => a <= c);
export const equal = cmp('equal', (a, c) => a === c);
export const unequal = cmp('unequal', (a, c) => a !== c);
export const and = cmp('and', (a, c) => a !== 0 && c !== 0);
export const or = cmp('or', (a, c) => a !== 0 || c !== 0);
export const not = elementwise('not', [
  { f: (a) => (a === 0 ? 1 : 0), local: ['0'], constantOutput: true, branch: (a) => (a === 0 ? 1 : 0), kink: 'the negation' },
]);

// select(c, a, b) = c ? a : b, entry by entry; the gradient flows through the branch taken
export const select = elementwise('select', [
  undefined,
  undefined,
  {
    f: (c, a, e) => (c !== 0 ? a : e),
    local: ['0', 'a != 0 ? 1 : 0', 'a != 0 ? 0 : 1'],
    branch: (c) => (c !== 0 ? 1 : 0),
    kink: "a conditional's boundary",
    label: 'cond',
  },
]);

export const ELEMENTWISE: ElementwiseDef[] = [
  add,
  subtract,
  multiply,
  gmul,
  divide,
  pow,
  unaryMinus,
  unaryPlus,
  sin,
  cos,
  tan,
  sec,
  csc,
  cot,
  asin,
  acos,
  atan,
  atan2,
  asec,
  acsc,
  acot,
  sinh,
  cosh,
  tanh,
  asinh,
  acosh,
  atanh,
  sech,
  csch,
  coth,
  asech,
  acsch,
  acoth,
  exp,
  expm1,
  log,
  log2,
  log10,
  log1p,
  erf,
  sqrt,
  cbrt,
  nthRootOp,
  square,
  cube,
  hypot,
  abs,
  sign,
  floor,
  ceil,
  round,
  fix,
  max,
  min,
  sigmoidOp,
  relu,
  softplusOp,
  larger,
  smaller,
  largerEq,
  smallerEq,
  equal,
  unequal,
  and,
  or,
  not,
  select,
];
