/**
 * `gradcheck --module ./layer.mjs#loss` runs the module in a child Node process that
 * speaks the --exec protocol (src/subjects/code/pipe.ts), so a module gets the same time-outs,
 * size caps and kill as any program, and a hang or a crash in it cannot take the check
 * down. The function is the named export (`default` when no #name); its derivative is
 * `loss.grad` / `loss.vjp`, or the exports `lossGrad` / `lossVjp`. Values arrive as
 * nested arrays; typed arrays and {shape, data} in answers are sent as nested arrays,
 * NaN and ±Infinity as the bare words the pipe reads.
 */
export const MODULE_RUNNER = String.raw`
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
const [file, name] = process.argv.slice(1);
let mod;
try {
  mod = await import(pathToFileURL(file).href);
} catch (e) {
  process.stderr.write('cannot load ' + file + ': ' + (e && e.message ? e.message : String(e)) + '\n');
  process.exit(3);
}
const fn = mod[name];
if (typeof fn !== 'function') {
  const have = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
  process.stderr.write(file + ' has no function export called ' + name + (have.length ? ' (it exports ' + have.join(', ') + ')' : '') + '\n');
  process.exit(3);
}
const side = (s) => (typeof fn[s.toLowerCase()] === 'function' ? fn[s.toLowerCase()] : typeof mod[name + s] === 'function' ? mod[name + s] : null);
const grad = side('Grad');
const vjp = side('Vjp');
const nest = (shape, data, at = 0) => (shape.length === 0 ? data[at] : Array.from({ length: shape[0] }, (_, i) => nest(shape.slice(1), data, at + i * shape.slice(1).reduce((a, b) => a * b, 1))));
const plain = (v) => {
  if (ArrayBuffer.isView(v)) return Array.from(v, plain);
  if (v && typeof v === 'object' && !Array.isArray(v) && Array.isArray(v.shape) && ArrayBuffer.isView(v.data)) return nest(v.shape, v.data);
  if (typeof v === 'number' && !Number.isFinite(v)) return '\u2063' + String(v);
  return v;
};
const text = (o) => JSON.stringify(o, (_k, v) => plain(v)).replace(/"\u2063(NaN|-?Infinity)"/g, '$1');
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  const req = JSON.parse(line);
  let out = { id: req.id };
  try {
    out.value = await fn(req.values);
    const want = req.want || [];
    if (want.includes('gradient') || want.includes('vjp')) {
      const g = want.includes('vjp') ? vjp : grad;
      if (!g) throw new Error(name + ' has no ' + (want.includes('vjp') ? 'vjp' : 'grad') + ': give ' + name + '.' + (want.includes('vjp') ? 'vjp' : 'grad') + ' or export ' + name + (want.includes('vjp') ? 'Vjp' : 'Grad'));
      out.gradient = want.includes('vjp') ? await g(req.values, req.cotangent) : await g(req.values);
    }
  } catch (e) {
    out = { id: req.id, error: e && e.message ? e.message : String(e) };
  }
  process.stdout.write(text(out) + '\n');
}
`;
