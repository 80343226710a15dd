import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { derive } from '../../src/subjects/formula/derive/index.js';
import { grad } from '../../src/subjects/formula/grad.js';
import { graphResult } from '../../src/subjects/formula/graph-result.js';
import { renderDerive } from '../../src/report/derive.js';
import { renderAscii } from '../../src/report/graph/ascii.js';
import { renderGrad } from '../../src/report/table.js';
import { parseAt } from '../../src/core/values.js';
import { cli, lectures, type Lecture } from '../helpers.js';

/**
 * The human views of the lecture examples at 60, 80 and 120 columns: no line wider than
 * the terminal, none ending in spaces, no generated name (`add#3`, `neg#2`) anywhere, and
 * each view as its snapshot (test/report/__snapshots__/width.test.ts.snap).
 */
const LECTURES = lectures();
const WIDTHS = [60, 80, 120];
const plain = new Chalk({ level: 0 });

function views(l: Lecture, width: number): Record<string, string> {
  const values = parseAt([l.at], { seed: 42 });
  const wrt = l.wrt?.split(',');
  const out: Record<string, string> = {
    grad: renderGrad(grad(l.formula, values, { wrt, engine: 'js' }), { digits: 6, edges: true, color: plain, width }),
    graph: renderAscii(graphResult(l.formula, values, { wrt, engine: 'js' }), { width }),
  };
  // derive is for scalar formulas
  if (Object.values(values).every((v) => v.shape.length === 0))
    out.derive = renderDerive(derive(l.formula, { wrt, points: 3 }), { digits: 6, color: plain, width });
  return out;
}

describe('human views fit the terminal', () => {
  for (const l of LECTURES) {
    it(`${l.formula} at ${WIDTHS.join(', ')} columns`, () => {
      for (const width of WIDTHS) {
        for (const [view, text] of Object.entries(views(l, width))) {
          const lines = text.split('\n');
          for (const line of lines) {
            expect([...line].length, `${view} at ${width}: ${line}`).toBeLessThanOrEqual(width);
            expect(line, `${view} at ${width}: trailing spaces`).toBe(line.trimEnd());
          }
          expect(text, `${view}: a generated name`).not.toMatch(/[a-z]#\d/);
          expect(text).toMatchSnapshot(`${view} at ${width}`);
        }
      }
    });
  }

  it('the CLI takes the width from COLUMNS off a terminal, 100 without it', () => {
    const args = ['grad', '-log(softmax(W*x + b)[y])', '--at', 'W=[[0.2,-0.5],[1.5,0.3],[-0.7,0.9]], x=[1,-2], b=[0.1,-0.2,0.3], y=2', '--wrt', 'W,b'];
    const widest = (s: string) => Math.max(...s.split('\n').map((l) => [...l].length));
    const at60 = cli(args, { env: { COLUMNS: '60' } }).stdout;
    const at100 = cli(args).stdout;
    expect(widest(at60)).toBeLessThanOrEqual(60);
    expect(widest(at100)).toBeLessThanOrEqual(100);
    expect(widest(at100)).toBeGreaterThan(60);
    // the softmax cross-entropy edge table (221 columns wide before)
    expect(at100).toMatch(/^ edge: local ∂ += value +upstream +downstream$/m);
  });
});
