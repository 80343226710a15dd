import {
  createAccessorNode,
  createArrayNode,
  createAssignmentNode,
  createBlockNode,
  createConditionalNode,
  createConstantNode,
  createFunctionAssignmentNode,
  createFunctionNode,
  createIndexNode,
  createNode,
  createNumber,
  createNumeric,
  createObjectNode,
  createOperatorNode,
  createParenthesisNode,
  createParse,
  createRangeNode,
  createRelationalNode,
  createSymbolNode,
} from 'mathjs';
import type { MathNode } from 'mathjs';

/**
 * The only mathjs we load on the CLI path: the expression parser. No evaluate,
 * no import, no units: a parse tree is all we take from mathjs, and our own
 * whitelist walk decides what it may contain.
 *
 * Start-up matters (a one-off `grad` is mostly start-up), so we do not call
 * mathjs's `create()`, which builds dozens of typed functions (~150 ms). We
 * instantiate mathjs's own factories instead: the real `parse` and the real node
 * classes, wired with the few dependencies parsing touches:
 *
 * - `numeric` is mathjs's own `numeric` over mathjs's own `number(string)`
 *   conversion (hex/bin/oct literals, word-size suffixes, NaN), reached without
 *   typed-function;
 * - `config` is `{ number: 'number' }`, the configuration we always used;
 * - `typed` only has to turn `parse`'s signature object into a function of a
 *   string, and accept `addConversion`;
 * - what the node classes need only to compile or evaluate (`math`, `subset`,
 *   `size`, `ResultSet`, `matrix`, `isBounded`, `Unit`) throws if ever reached:
 *   we never compile or evaluate a mathjs tree.
 *
 * test/parse/mathjs.test.ts checks trees and error messages against full mathjs.
 * Nothing runs at import time; the parser is built on the first call (~1 ms).
 */

// The factories are exported by mathjs (factoriesAny) but absent from its typings.
type Factory = (deps: Record<string, unknown>) => unknown;
declare module 'mathjs' {
  export const createAccessorNode: Factory;
  export const createArrayNode: Factory;
  export const createAssignmentNode: Factory;
  export const createBlockNode: Factory;
  export const createConditionalNode: Factory;
  export const createConstantNode: Factory;
  export const createFunctionAssignmentNode: Factory;
  export const createFunctionNode: Factory;
  export const createIndexNode: Factory;
  export const createNode: Factory;
  export const createNumber: Factory;
  export const createNumeric: Factory;
  export const createObjectNode: Factory;
  export const createOperatorNode: Factory;
  export const createParenthesisNode: Factory;
  export const createParse: Factory;
  export const createRangeNode: Factory;
  export const createRelationalNode: Factory;
  export const createSymbolNode: Factory;
}

type Signatures = Record<string, (...args: unknown[]) => unknown>;

/** The typed-function stand-in: only the `string` signature of a function is reachable. */
function typedShim(name: string, signatures: Signatures): (x: unknown) => unknown {
  const str = signatures.string;
  return (x: unknown, ...rest: unknown[]) => {
    if (typeof x === 'string' && rest.length === 0 && str) return str(x);
    throw new TypeError(`${name}: only a single string argument is supported here`);
  };
}
typedShim.addConversion = () => {};
typedShim.referToSelf = (f: unknown) => f;
typedShim.referTo = (...a: unknown[]) => a[a.length - 1];

/** Something only evaluation or compilation would use: never needed for a parse tree. */
function notHere(what: string): never {
  throw new Error(`${what} is not available: autograd-cli never evaluates a mathjs tree`);
}
const unavailable = (what: string) => () => notHere(what);
const unavailableScope = (what: string): Record<string, unknown> =>
  new Proxy({}, { get: (_t, p) => (typeof p === 'symbol' ? undefined : notHere(`${what}.${p}`)), has: () => notHere(what) });

let parseFn: ((src: string) => MathNode) | undefined;

function buildParse(): (src: string) => MathNode {
  // mathjs's own number(string): its signature object, called directly.
  const sigsOnly = Object.assign((_name: string, sigs: Signatures) => sigs, { referToSelf: (f: unknown) => f });
  const numberSigs = createNumber({ typed: sigsOnly }) as Signatures;
  const number = (x: unknown) => {
    if (typeof x === 'string') return numberSigs.string(x);
    if (typeof x === 'number') return x;
    throw new TypeError('number: only strings are converted here');
  };
  const numeric = createNumeric({ number });
  const config = { number: 'number', numberFallback: 'number' };
  // toTex (for --latex) looks names up to find a function's own LaTeX: none here, so the
  // defaults for known functions are used; anything else a compile would ask still throws
  const math = new Proxy({}, { get: () => undefined, has: () => notHere('math'), getOwnPropertyDescriptor: () => notHere('math') });
  const Node = createNode({ mathWithTransform: unavailableScope('mathWithTransform') });
  const subset = unavailable('subset');
  const SymbolNode = createSymbolNode({ math, Node });
  const deps = {
    typed: typedShim,
    numeric,
    config,
    AccessorNode: createAccessorNode({ subset, Node }),
    ArrayNode: createArrayNode({ Node }),
    AssignmentNode: createAssignmentNode({ subset, matrix: unavailable('matrix'), Node }),
    BlockNode: createBlockNode({ ResultSet: unavailable('ResultSet'), Node }),
    ConditionalNode: createConditionalNode({ Node }),
    // toTex asks whether a number is finite (LaTeX for --latex); nothing else of evaluation
    ConstantNode: createConstantNode({ Node, isBounded: (v: unknown) => typeof v !== 'number' || Number.isFinite(v) }),
    FunctionAssignmentNode: createFunctionAssignmentNode({ typed: typedShim, Node }),
    FunctionNode: createFunctionNode({ math, Node, SymbolNode }),
    IndexNode: createIndexNode({ Node, size: unavailable('size') }),
    ObjectNode: createObjectNode({ Node }),
    OperatorNode: createOperatorNode({ Node }),
    ParenthesisNode: createParenthesisNode({ Node }),
    RangeNode: createRangeNode({ Node }),
    RelationalNode: createRelationalNode({ Node }),
    SymbolNode,
  };
  return createParse(deps) as (src: string) => MathNode;
}

export function mathParse(src: string): MathNode {
  if (!parseFn) parseFn = buildParse();
  return parseFn(src);
}

/**
 * mathjs's LaTeX as a textbook writes it: `.*` is the Hadamard product ⊙ (mathjs:
 * `.\cdot`), `./` the elementwise quotient ⊘ (mathjs: `.:`), the empty array of
 * `max(A, [], 2)` is `[\,]` (mathjs: an empty bmatrix), and a + (−x) is a − x (mathjs:
 * `+-`). Both LaTeX writers (grad's edges, derive's derivatives) pass their text through it.
 */
export function textbookTex(tex: string): string {
  return tex
    .replace(/\.\\cdot/g, '\\odot')
    .replace(/\.:/g, '\\oslash')
    .replace(/\\begin\{bmatrix\}\s*\\end\{bmatrix\}/g, '[\\,]')
    .replace(/\+\s*-/g, '-');
}
