import { create, parseDependencies } from 'mathjs';
import type { MathNode } from 'mathjs';

/**
 * The only mathjs we load on the CLI path: the expression parser. No evaluate,
 * no import, no units: a parse tree is all we take from mathjs, and our own
 * whitelist walk decides what it may contain.
 */
let parseFn: ((src: string) => MathNode) | undefined;

export function mathParse(src: string): MathNode {
  if (!parseFn) {
    const math = create({ parseDependencies }, { number: 'number' });
    parseFn = math.parse as unknown as (src: string) => MathNode;
  }
  return parseFn(src);
}
