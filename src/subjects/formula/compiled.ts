import { selectEngine, type EngineChoice } from '../../core/engine/select.js';
import { nativeGradient, nativeGradientRun } from '../../core/engine/native.js';
import type { GradientRun } from '../../core/engine/derivative-tape.js';
import { AgError } from '../../core/errors.js';
import { limitsFrom, withDeadline, type Limits } from '../../core/limits.js';
import { makeArena, view, type Tape } from '../../core/graph/tape.js';
import { prepare, toTensors } from './grad.js';
import type { Nested } from '../../core/parse/values.js';
import { shapeStr, type Tensor } from '../../core/tensor.js';

export interface CompileOptions {
  /** differentiate only with respect to these variables (the others are fixed constants) */
  wrt?: string[];
  engine?: EngineChoice;
  /** the resource limits (src/core/limits.ts): the build is held to them, and each run() / grad() to its timeout */
  limits?: Limits | Partial<Limits>;
}

/**
 * A formula parsed and built once, for running many times (training loops, benchmarks):
 * the tape, its value arena and its adjoint buffer are made once and reused, and with
 * the native engine each `grad()` is one call into C++ (forward and reverse together).
 */
export interface CompiledFormula {
  readonly engine: 'js' | 'native';
  readonly tape: Tape;
  /** the variables differentiated, in tape order */
  readonly variables: string[];
  /**
   * Every value given at compile time that the formula uses, as a view into the arena:
   * write into it to change the value with no copy (x.set(...), x[3] = 1).
   */
  readonly values: Readonly<Record<string, Float64Array>>;
  /** copy new values in (any subset of the names); same shapes as at compile time */
  set(values: Record<string, Tensor | Nested | Float64Array>): void;
  /** the formula's value (forward only) */
  run(values?: Record<string, Tensor | Nested | Float64Array>): number;
  /**
   * Value and gradient. The gradient arrays are views into a buffer reused by the next
   * call: copy them (slice()) to keep them.
   */
  grad(values?: Record<string, Tensor | Nested | Float64Array>): { value: number; gradient: Record<string, Float64Array> };
}

/** Parse, build and prepare `formula` at these values (which fix the shapes). */
export function compile(formula: string, valuesIn: Record<string, Tensor | Nested>, opts: CompileOptions = {}): CompiledFormula {
  const values = toTensors(valuesIn);
  const limits = limitsFrom(opts.limits);
  // a compiled formula keeps one arena and one adjoint: no edges, no check copies
  const tape = prepare(formula, values, { wrt: opts.wrt, limits, plan: { arenaCopies: 3, valueCopies: 1, edges: false, fullOutput: false } });
  const out = tape.nodes[tape.output];
  if (out.size !== 1)
    throw new AgError('shape', `the formula's value has shape ${shapeStr(out.shape)}; a compiled gradient needs a scalar`, { source: formula });
  const engine = selectEngine(opts.engine ?? 'auto', tape);
  // native: the arena is the start of the gradient tape's work arena, so a step copies
  // nothing (when the gradient tape cannot be made here, grad() makes it and says why)
  let native: GradientRun | null = null;
  if (engine.name === 'native') {
    try {
      native = nativeGradientRun(tape);
    } catch {
      native = null;
    }
  }
  const arena = makeArena(tape, values, native?.arena);

  // where each given value lives: a tape input, or a variable fixed by --wrt (a constant labelled by its name)
  // name tables are null-prototype: a variable named constructor or __proto__ is a name like any other
  const views: Record<string, Float64Array> = Object.create(null);
  for (const inp of tape.inputs) views[inp.name] = view(arena, tape.nodes[inp.node]);
  for (const n of tape.nodes) if (n.op === 'const' && n.label in values && !(n.label in views)) views[n.label] = view(arena, n);
  const adjoint = native ? null : new Float64Array(tape.arenaSize);
  const gradient: Record<string, Float64Array> = Object.create(null);
  tape.inputs.forEach((inp, k) => (gradient[inp.name] = native ? native.gradients[k] : view(adjoint!, tape.nodes[inp.node])));

  const set = (vals: Record<string, Tensor | Nested | Float64Array>) => {
    for (const [name, v] of Object.entries(vals)) {
      const dst = views[name];
      if (!dst) throw new AgError('usage', `${name} is not a value of this compiled formula`);
      const data = v instanceof Float64Array ? v : toTensors({ [name]: v as Tensor | Nested })[name].data;
      if (data === dst) continue;
      if (data.length !== dst.length) throw new AgError('shape', `${name} has ${data.length} entries; it was compiled with ${dst.length}`);
      dst.set(data);
    }
  };

  // one gradient step: a single native call (forward and reverse together), or the two JS sweeps
  const step = native
    ? () => ({ value: native.step(), gradient })
    : engine.name === 'native'
      ? () => ({ value: nativeGradient(tape, arena, adjoint!), gradient })
      : () => {
          engine.forward(tape, arena);
          const { adjoint: adj } = engine.reverse(tape, arena);
          const g: Record<string, Float64Array> = Object.create(null);
          for (const inp of tape.inputs) g[inp.name] = view(adj, tape.nodes[inp.node]);
          return { value: arena[out.offset], gradient: g };
        };
  return {
    engine: engine.name,
    tape,
    variables: tape.inputs.map((i) => i.name),
    values: views,
    set,
    run(vals) {
      if (vals) set(vals);
      return withDeadline(limits.timeout, () => {
        engine.forward(tape, arena);
        return arena[out.offset];
      });
    },
    grad(vals) {
      if (vals) set(vals);
      return withDeadline(limits.timeout, step);
    },
  };
}
