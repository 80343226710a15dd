import { describe, expect, it } from 'vitest';
import { inputSlots } from '../../src/core/engine/js.js';
import { type NativeAddon, nativeAddon, tapeSpec } from '../../src/core/engine/native.js';
import { TapeWriter } from '../../src/core/graph/append.js';
import { appendGradient, appendTangent } from '../../src/core/graph/gradient.js';
import type { Tape, TapeNode } from '../../src/core/graph/tape.js';
import type { GraphNode } from '../../src/core/ops/types.js';
import { Rng } from '../../src/core/random.js';
import { sizeOf, type Shape } from '../../src/core/tensor.js';
import { compareForward, describeCase, expectClose, jsEngine, nativeEngine, NORMWISE, oneOpTape, opsUnderTest, randomCase, randomValues } from './harness.js';

/**
 * The native engine holds no derivative: reverse and forward mode are tapes appended in
 * TypeScript from the op table's graph rules (appendGradient / appendTangent) and run with
 * the forward kernels. Here, op by op at random shapes and points: the native forward of
 * such tapes against the TypeScript engine's forward of the same tapes (whole, and from
 * the first appended node on), the gradient against central differences of the op, and
 * the kernels that only derivative tapes use (gmul, scatter) and the products that read
 * through transposes.
 *
 * Tolerance: relative 1e-12 per entry (norm-wise for matmul and prod, as the forward
 * parity tests); the finite differences 1e-5 of the gradient's scale.
 */
const REL = 1e-12;
const TRIALS = 6;

function addon(): NativeAddon {
  nativeEngine();
  return nativeAddon()!;
}

interface Extended {
  tape: Tape;
  /** the first appended node: everything before it is the op's own tape */
  first: number;
  /** id in `tape` of each derivative node read (null: nothing flows) */
  reads: (number | null)[];
}

/** The op's tape with the gradient of ⟨seed, output⟩ appended, the seed a run-time slot. */
function gradientTape(tape: Tape): Extended & { seed: number } {
  const w = new TapeWriter(tape);
  const out = tape.nodes[tape.output];
  const seed = w.slot(out.shape, 'seed');
  const grads = appendGradient(
    w,
    tape.output,
    tape.inputs.map((i) => i.node),
    seed,
  );
  return finish(w, tape, grads, seed);
}

/** The op's tape with the tangent of its output appended, each input's direction a slot. */
function tangentTape(tape: Tape): Extended & { dirs: number[] } {
  const w = new TapeWriter(tape);
  const dirs = tape.inputs.map((i) => w.slot(i.shape, `v_${i.name}`));
  const t = appendTangent(w, tape.output, new Map(tape.inputs.map((inp, k) => [inp.node, dirs[k]])));
  const e = finish(w, tape, [t], ...dirs);
  return { ...e, dirs: dirs.map((d) => e.ids[d]) };
}

function finish(w: TapeWriter, tape: Tape, reads: (GraphNode | null)[], ...slots: GraphNode[]) {
  const { tape: ext, ids } = w.finish(tape.output, [...reads.filter((r): r is number => r !== null), ...slots]);
  const first = Math.max(...tape.nodes.map((n) => ids[n.id])) + 1;
  return { tape: ext, first, ids, reads: reads.map((r) => (r === null ? null : ids[r])), seed: slots.length === 1 ? ids[slots[0]] : -1 };
}

/** Fill a slot node with normal values (some 0: a zero upstream gradient contributes nothing). */
function fill(rng: Rng, arena: Float64Array, n: TapeNode, zeros = 0.15): Float64Array {
  const v = Float64Array.from({ length: n.size }, () => (rng.next() < zeros ? 0 : rng.normal()));
  arena.set(v, n.offset);
  return v;
}

/** The op's tape values copied into the extended tape's arena (same nodes, same offsets: compact keeps order). */
function extendedArena(ext: Tape, base: Tape, arena: Float64Array): Float64Array {
  const a = new Float64Array(ext.arenaSize);
  for (const n of ext.nodes) if (n.op === 'const' && n.attrs.value) a.set(n.attrs.value.data, n.offset);
  base.nodes.forEach((n, id) => a.set(arena.subarray(n.offset, n.offset + n.size), ext.nodes[id].offset));
  return a;
}

/**
 * Native forward of `ext` against the JS forward: whole, and (after a JS forward of the
 * op's part) from the first appended node only, which must give the same values.
 */
function compareTapes(a: NativeAddon, ext: Extended, arena: Float64Array, what: string, normwise: boolean): Float64Array {
  const aJs = arena.slice();
  jsEngine.forward(ext.tape, aJs);
  const whole = arena.slice();
  const { handle } = a.compile(tapeSpec(a, ext.tape));
  a.forward(handle, whole, Infinity, 0);
  expectClose(whole, aJs, REL, `${what}: the whole tape`, normwise);
  // the appended part alone: the op's part as the JS engine left it, the rest poisoned
  const part = aJs.slice();
  const firstOffset = ext.tape.nodes[ext.first]?.offset ?? ext.tape.arenaSize;
  for (const n of ext.tape.nodes.slice(ext.first)) if (n.inputs.length > 0) part.fill(Number.NaN, n.offset, n.offset + n.size);
  a.forward(handle, part, Infinity, ext.first);
  expectClose(part.subarray(firstOffset), aJs.subarray(firstOffset), REL, `${what}: from node ${ext.first}`, normwise);
  return aJs;
}

/** Ops whose derivative tapes are compared: everything with a differentiable input (comparisons have none). */
const differentiable = () => opsUnderTest().filter((op) => !op.constantOutput);

describe('the forward kernels: native = js, every op, values and branch codes', () => {
  for (const op of opsUnderTest()) {
    it(op.name, () => {
      const native = nativeEngine();
      const rng = new Rng(4000 + ([...op.name].reduce((s, ch) => s * 31 + ch.charCodeAt(0), 7) % 100000));
      for (let t = 0; t < TRIALS; t++) compareForward(native, randomCase(rng, op), rng, `trial ${t}`);
    });
  }
});

describe('derivative tapes: native forward = js forward, op by op', () => {
  for (const op of differentiable()) {
    it(op.name, () => {
      const a = addon();
      const rng = new Rng(2000 + ([...op.name].reduce((s, ch) => s * 31 + ch.charCodeAt(0), 7) % 100000));
      let appended = 0;
      for (let t = 0; t < TRIALS; t++) {
        const c = randomCase(rng, op);
        const { tape, arena } = oneOpTape(c, randomValues(rng, c));
        jsEngine.forward(tape, arena);
        const what = `trial ${t} ${describeCase(c)}`;
        const normwise = NORMWISE.has(op.name);
        if (tape.inputs.length === 0 || !tape.nodes[tape.output].active) continue;

        const g = gradientTape(tape);
        const ga = extendedArena(g.tape, tape, arena);
        fill(rng, ga, g.tape.nodes[g.seed]);
        compareTapes(a, g, ga, `${what} gradient`, normwise);
        appended += g.tape.nodes.slice(g.first).filter((n) => n.inputs.length > 0).length;

        const tt = tangentTape(tape);
        const ta = extendedArena(tt.tape, tape, arena);
        for (const d of tt.dirs) fill(rng, ta, tt.tape.nodes[d], 0.25);
        compareTapes(a, tt, ta, `${what} tangent`, normwise);
      }
      // the rules did append something to run (a derivative that is 0 everywhere, or the identity, appends nothing)
      if (!['floor', 'ceil', 'round', 'fix', 'sign', 'unaryPlus'].includes(op.name)) expect(appended, 'computed nodes appended').toBeGreaterThan(0);
    });
  }
});

describe('derivative tapes run natively = central differences', () => {
  // smooth points only (no kinks): the derivative is the limit of the differences there
  const H = 1e-6;
  for (const op of differentiable()) {
    it(op.name, () => {
      const a = addon();
      const native = nativeEngine();
      const rng = new Rng(3000 + ([...op.name].reduce((s, ch) => s * 31 + ch.charCodeAt(0), 7) % 100000));
      let judged = 0;
      for (let t = 0; t < 3; t++) {
        const c = { ...randomCase(rng, op), onKinks: false };
        const { tape, arena } = oneOpTape(c, randomValues(rng, c));
        if (tape.inputs.length === 0 || !tape.nodes[tape.output].active) continue;
        native.forward(tape, arena);
        const g = gradientTape(tape);
        const ga = extendedArena(g.tape, tape, arena);
        const seed = fill(rng, ga, g.tape.nodes[g.seed], 0);
        const { handle } = a.compile(tapeSpec(a, g.tape));
        a.forward(handle, ga, Infinity, g.first);
        const grad = new Float64Array(inputSlots(tape).length);
        let o = 0;
        tape.inputs.forEach((inp, k) => {
          const r = g.reads[k];
          const n = g.tape.nodes[inp.node];
          if (r !== null) grad.set(ga.subarray(g.tape.nodes[r].offset, g.tape.nodes[r].offset + n.size), o);
          o += n.size;
        });
        // ⟨seed, f⟩ at x ± h·e_j, by the native finite-difference loop (values: the output; the seed is applied here)
        const nIn = grad.length;
        const outN = tape.nodes[tape.output];
        const fd = new Float64Array(nIn);
        const branchesOk: boolean[] = [];
        for (let j = 0; j < nIn; j++) {
          const plus = arena.slice();
          const minus = arena.slice();
          const slot = inputSlots(tape)[j];
          plus[slot] += H;
          minus[slot] -= H;
          native.forward(tape, plus);
          native.forward(tape, minus);
          let s = 0;
          for (let k = 0; k < outN.size; k++) s += seed[k] * (plus[outN.offset + k] - minus[outN.offset + k]);
          fd[j] = s / (2 * H);
          // a step across a kink or a jump is no derivative: such entries are left out (branch codes say so)
          const e = native.evaluate(tape, arena, Int32Array.of(j, j), Float64Array.of(H, -H));
          const base = native.evaluate(tape, arena, Int32Array.of(j), Float64Array.of(0));
          branchesOk.push(e.branches[0] === base.branches[0] && e.branches[1] === base.branches[0]);
        }
        const scale = Math.max(1, ...grad.map(Math.abs));
        grad.forEach((v, j) => {
          if (!branchesOk[j] || !Number.isFinite(v)) return;
          judged++;
          if (Math.abs(v - fd[j]) > 1e-5 * scale) expect.fail(`trial ${t} ${describeCase(c)} entry ${j}: tape ${v}, differences ${fd[j]}`);
        });
      }
      expect(judged, 'entries compared with the differences').toBeGreaterThan(0);
    });
  }
});

/** A tape of leaves x0, x1, … (inputs) and one node of `op`, built by hand (ops the TS table may not have yet). */
function handTape(op: string, shapes: Shape[], outShape: Shape, attrs: TapeNode['attrs'] = {}): Tape {
  const nodes: TapeNode[] = [];
  let offset = 0;
  shapes.forEach((shape, i) => {
    const size = sizeOf(shape);
    nodes.push({ id: i, op: 'input', inputs: [], shape, size, offset, attrs: {}, label: `x${i}`, active: true });
    offset += size;
  });
  const size = sizeOf(outShape);
  nodes.push({ id: shapes.length, op, inputs: shapes.map((_, i) => i), shape: outShape, size, offset, attrs, label: op, active: true });
  return {
    source: op,
    nodes,
    output: shapes.length,
    inputs: shapes.map((shape, i) => ({ name: `x${i}`, node: i, shape })),
    indexVars: [],
    arenaSize: offset + size,
  };
}

function run(a: NativeAddon, tape: Tape, inputs: number[][]): Float64Array {
  const arena = new Float64Array(tape.arenaSize);
  inputs.forEach((v, i) => arena.set(v, tape.nodes[i].offset));
  a.forward(a.compile(tapeSpec(a, tape)).handle, arena);
  const out = tape.nodes[tape.output];
  return arena.slice(out.offset, out.offset + out.size);
}

describe('gmul: upstream × partial', () => {
  it('a zero upstream gradient contributes nothing, even where the partial is infinite or NaN', () => {
    const a = addon();
    const got = run(a, handTape('gmul', [[6], [6]], [6]), [
      [0, 0, 0, 2, -3, 0.5],
      [Infinity, -Infinity, Number.NaN, Infinity, 4, Number.NaN],
    ]);
    expect([...got]).toEqual([0, 0, 0, Infinity, -12, Number.NaN]);
  });

  it('broadcasts like multiply: a scalar upstream, a row against a matrix', () => {
    const a = addon();
    expect([...run(a, handTape('gmul', [[], [3]], [3]), [[0], [Infinity, 1, 2]])]).toEqual([0, 0, 0]);
    expect([
      ...run(
        a,
        handTape(
          'gmul',
          [
            [2, 3],
            [1, 3],
          ],
          [2, 3],
        ),
        [
          [1, 0, 2, 0, 3, 4],
          [Infinity, 5, 6],
        ],
      ),
    ]).toEqual([Infinity, 0, 12, 0, 15, 24]);
  });
});

describe('erf', () => {
  it('the error function, odd, ±1 far out', () => {
    const a = addon();
    const got = run(a, handTape('erf', [[8]], [8]), [[0, -0, 1, -0.5, 6, -Infinity, Number.NaN, 1e-10]]);
    expectClose(got, [0, -0, 0.8427007929497149, -0.5204998778130465, 1, -1, Number.NaN, 1.1283791670955126e-10], 1e-15, 'erf');
    expect(Object.is(got[1], -0)).toBe(true);
  });
});

describe('scatter: subset reversed', () => {
  it('adds input entry k into output entry gather[k]; repeated indices add up, untouched entries are 0', () => {
    const a = addon();
    const rng = new Rng(5);
    for (let t = 0; t < 20; t++) {
      const inSize = 1 + rng.int(12);
      const outSize = 1 + rng.int(6);
      const gather = Int32Array.from({ length: inSize }, () => rng.int(outSize));
      const x = Array.from({ length: inSize }, () => rng.normal());
      const want = new Array(outSize).fill(0);
      gather.forEach((g, k) => (want[g] += x[k]));
      const outShape = outSize % 2 === 0 ? [2, outSize / 2] : [outSize];
      const got = run(a, handTape('scatter', [[inSize]], outShape, { gather, outShape } as TapeNode['attrs']), [x]);
      expect([...got]).toEqual(want);
    }
  });

  it('refuses an index table that does not fit, at compile time', () => {
    const a = addon();
    const bad = (gather: Int32Array) => () => a.compile(tapeSpec(a, handTape('scatter', [[3]], [2], { gather } as TapeNode['attrs'])));
    expect(bad(Int32Array.of(0, 1, 2))).toThrow(/scatter: an index is out of range/);
    expect(bad(Int32Array.of(0, -1, 1))).toThrow(/scatter: an index is out of range/);
    expect(bad(Int32Array.of(0, 1))).toThrow(/scatter: the index table does not match the input/);
  });
});

describe('forward from a node', () => {
  it('runs only the nodes from fromNode on, and refuses an index that is no node', () => {
    const a = addon();
    // x0 * x1 then gmul(that, x0): two computed nodes
    const tape = handTape('multiply', [[2], [2]], [2]);
    tape.nodes.push({ id: 3, op: 'gmul', inputs: [2, 0], shape: [2], size: 2, offset: 6, attrs: {}, label: 'gmul', active: true });
    tape.output = 3;
    tape.arenaSize = 8;
    const { handle } = a.compile(tapeSpec(a, tape));
    const arena = Float64Array.of(1, 2, 3, 4, 0, 0, 0, 0);
    a.forward(handle, arena, Infinity, 3);
    expect([...arena.subarray(4)]).toEqual([0, 0, 0, 0]);
    a.forward(handle, arena, Infinity, 2);
    expect([...arena.subarray(4)]).toEqual([3, 8, 3, 16]);
    a.forward(handle, arena, Infinity, 4);
    for (const bad of [-1, 1.5, 5, Number.NaN, '2' as unknown as number])
      expect(() => a.forward(handle, arena, Infinity, bad), String(bad)).toThrow(/fromNode must be a node index/);
  });
});

describe('matrix products read through transposes', () => {
  /** sum(Aᵀ·B + (Bᵀ·A)ᵀ) for A [m,k], B [m,n]: two transposes read only by products, one read by an add. */
  function tapeOf(m: number, k: number, n: number): Tape {
    const shapes: Shape[] = [[m, k], [m, n], [k, m], [k, n], [n, m], [n, k], [k, n], [k, n], []];
    const ops: [string, number[]][] = [
      ['input', []],
      ['input', []],
      ['transpose', [0]],
      ['matmul', [2, 1]],
      ['transpose', [1]],
      ['matmul', [4, 0]],
      ['transpose', [5]],
      ['add', [3, 6]],
      ['sum', [7]],
    ];
    let offset = 0;
    const nodes: TapeNode[] = ops.map(([op, inputs], id) => {
      const size = sizeOf(shapes[id]);
      offset += size;
      return { id, op, inputs, shape: shapes[id], size, offset: offset - size, attrs: {}, label: op, active: true };
    });
    return {
      source: "sum(A'*B + (B'*A)')",
      nodes,
      output: 8,
      inputs: [
        { name: 'A', node: 0, shape: shapes[0] },
        { name: 'B', node: 1, shape: shapes[1] },
      ],
      indexVars: [],
      arenaSize: offset,
    };
  }

  it('the same values as the TypeScript engine; a transpose only products read is left uncomputed unless kept', () => {
    const a = addon();
    const rng = new Rng(8);
    const tape = tapeOf(3, 4, 5);
    const inputs = 3 * 4 + 3 * 5;
    const arena = new Float64Array(tape.arenaSize);
    for (let k = 0; k < inputs; k++) arena[k] = rng.normal();
    const js = arena.slice();
    jsEngine.forward(tape, js);
    const transposes = [2, 4].map((id) => tape.nodes[id]);
    // the finite-difference loop runs the same compiled tape
    const coord = Int32Array.of(0, 5, 20, -1);
    const delta = Float64Array.of(1e-3, -1e-3, 2e-3, 1e-3);
    const direction = Float64Array.from({ length: inputs }, () => rng.normal());
    const fdJs = jsEngine.evaluate(tape, arena, coord, delta, direction).values;
    for (const keep of [undefined, [], [2]]) {
      const got = arena.slice().fill(Number.NaN, inputs);
      const { handle } = a.compile(tapeSpec(a, tape, keep));
      a.forward(handle, got);
      const values = new Float64Array(coord.length);
      a.evaluate(handle, arena, coord, delta, direction, values, new Float64Array(coord.length));
      expectClose(values, fdJs, REL, `keep ${JSON.stringify(keep)} evaluate`);
      for (const n of tape.nodes.filter((n) => n.op !== 'transpose' || n.id === 6))
        expectClose(got.subarray(n.offset, n.offset + n.size), js.subarray(n.offset, n.offset + n.size), REL, `keep ${JSON.stringify(keep)} node ${n.id}`);
      for (const t of transposes) {
        const computed = !keep || keep.includes(t.id);
        const v = got.subarray(t.offset, t.offset + t.size);
        if (computed) expectClose(v, js.subarray(t.offset, t.offset + t.size), 0, `keep ${JSON.stringify(keep)} transpose ${t.id}`);
        else expect(v.every(Number.isNaN), `transpose ${t.id} is not computed`).toBe(true);
      }
    }
  });

  it('a BLAS-sized product of transposes as the reference computes it', () => {
    const a = addon();
    const rng = new Rng(9);
    // above the BLAS threshold: dgemm reads the stored matrices with its transpose flags
    const [m, k, n] = [60, 70, 50];
    const tape = tapeOf(m, k, n);
    const arena = new Float64Array(tape.arenaSize);
    for (let j = 0; j < m * k + m * n; j++) arena[j] = rng.normal();
    const js = arena.slice();
    jsEngine.forward(tape, js);
    const got = arena.slice();
    a.forward(a.compile(tapeSpec(a, tape, [])).handle, got);
    for (const id of [3, 5, 6, 7, 8]) {
      const node = tape.nodes[id];
      expectClose(got.subarray(node.offset, node.offset + node.size), js.subarray(node.offset, node.offset + node.size), REL, `node ${id}`, true);
    }
  });
});
