import { FUNCTIONS } from '../ops/index.js';
import type { Expr, Program } from './ast.js';
import { CONSTANTS } from './parse.js';

/** The variables of a program: names read outside index brackets that no step, parameter or constant defines. */
export function freeVariables(program: Program): { variables: string[]; indexNames: string[] } {
  const variables: string[] = [];
  const indexNames: string[] = [];
  const bound = new Set<string>();
  const add = (list: string[], name: string, local: Set<string>) => {
    if (bound.has(name) || local.has(name) || name in CONSTANTS || FUNCTIONS.has(name) || name === 'end') return;
    if (!list.includes(name)) list.push(name);
  };
  const walk = (e: Expr, local: Set<string>, inIndex: boolean): void => {
    switch (e.k) {
      case 'sym':
        add(inIndex ? indexNames : variables, e.name, local);
        return;
      case 'call':
        for (const a of e.args) walk(a, local, inIndex);
        return;
      case 'cond':
        walk(e.test, local, inIndex);
        walk(e.then, local, inIndex);
        walk(e.else, local, inIndex);
        return;
      case 'array':
        for (const it of e.items) walk(it, local, inIndex);
        return;
      case 'index':
        walk(e.obj, local, inIndex);
        for (const d of e.dims) {
          if (d.k === 'at') walk(d.e, local, true);
          else for (const x of [d.start, d.step, d.end]) if (x) walk(x, local, true);
        }
        return;
      default:
        return;
    }
  };
  for (const st of program.stmts) {
    if (st.k === 'def') walk(st.body, new Set(st.params), false);
    else walk(st.expr, new Set(), false);
    if (st.k === 'assign') bound.add(st.name);
  }
  return { variables, indexNames: indexNames.filter((n) => !variables.includes(n)) };
}
