import { isFunctionName } from '../ops/index.js';
import { isTransposeMark } from '../ops/functions.js';
import type { Expr, Program } from './ast.js';
import { CONSTANTS } from './parse.js';

/** The variables of a program: names read outside index brackets that no step, parameter or constant defines. */
export function freeVariables(program: Program): { variables: string[]; indexNames: string[] } {
  const variables: string[] = [];
  const indexNames: string[] = [];
  const bound = new Set<string>();
  const add = (list: string[], name: string, local: Set<string>) => {
    if (bound.has(name) || local.has(name) || name in CONSTANTS || isFunctionName(name) || name === 'end') return;
    if (!list.includes(name)) list.push(name);
  };
  // an explicit stack, in reading order: a long chain x + x + … + x is deeper than the call stack
  const walk = (root: Expr, local: Set<string>, inIndex0: boolean): void => {
    const stack: [Expr, boolean][] = [[root, inIndex0]];
    while (stack.length) {
      const [e, inIndex] = stack.pop()!;
      const kids: [Expr, boolean][] = [];
      switch (e.k) {
        case 'sym':
          add(inIndex ? indexNames : variables, e.name, local);
          break;
        case 'call':
          // the T of A^T marks a transpose, not a variable (a T read anywhere else is one)
          for (const a of isTransposeMark(e) ? e.args.slice(0, 1) : e.args) kids.push([a, inIndex]);
          break;
        case 'cond':
          kids.push([e.test, inIndex], [e.then, inIndex], [e.else, inIndex]);
          break;
        case 'array':
          for (const it of e.items) kids.push([it, inIndex]);
          break;
        case 'index':
          kids.push([e.obj, inIndex]);
          for (const d of e.dims) {
            if (d.k === 'at') kids.push([d.e, true]);
            else for (const x of [d.start, d.step, d.end]) if (x) kids.push([x, true]);
          }
          break;
        default:
          break;
      }
      for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k]);
    }
  };
  for (const st of program.stmts) {
    if (st.k === 'def') walk(st.body, new Set(st.params), false);
    else walk(st.expr, new Set(), false);
    if (st.k === 'assign') bound.add(st.name);
  }
  return { variables, indexNames: indexNames.filter((n) => !variables.includes(n)) };
}
