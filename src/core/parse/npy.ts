import { AgError } from '../errors.js';
import type { Tensor } from '../tensor.js';

/**
 * A NumPy .npy file's bytes → a tensor: float64 or float32, C order, 0-, 1- or 2-D.
 * The header is read strictly (the three keys NumPy writes, once each, a shape tuple
 * of whole numbers); anything else is a clear error naming the file. `check` sees the
 * shape before any value is converted (the caller's limits).
 */
export function parseNpy(buf: Buffer, path: string, check: (shape: number[]) => void = () => {}): Tensor {
  const bad = (why: string) => new AgError('bad-value', `${path}: ${why}`);
  if (buf.length < 10 || buf.readUInt8(0) !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') throw bad('not a .npy file (bad magic)');
  const major = buf.readUInt8(6);
  if (major < 1 || major > 3) throw bad(`unknown .npy format version ${major}`);
  if (major > 1 && buf.length < 12) throw bad('truncated header');
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > buf.length) throw bad('truncated header');
  const header = parseHeader(buf.toString('latin1', start, start + headerLen), bad);
  if (header.fortran) throw bad('Fortran-ordered arrays are not supported; save with np.ascontiguousarray');
  const shape = header.shape;
  if (shape.length > 2) throw bad(`${shape.length}-D arrays are not supported (only scalars, vectors and matrices)`);
  if (shape.some((d) => d < 1)) throw bad(`an empty array (shape (${shape.join(', ')})) has no entries to differentiate`);
  check(shape);
  const n = shape.reduce((p, d) => p * d, 1);
  const body = start + headerLen;
  let width: number;
  let read: (o: number) => number;
  switch (header.descr) {
    case '<f8':
      width = 8;
      read = (o) => buf.readDoubleLE(o);
      break;
    case '<f4':
      width = 4;
      read = (o) => buf.readFloatLE(o);
      break;
    case '>f8':
      width = 8;
      read = (o) => buf.readDoubleBE(o);
      break;
    default:
      throw bad(`dtype ${header.descr.slice(0, 20)} is not supported (use float64 or float32)`);
  }
  if (body + n * width > buf.length) throw bad(`holds fewer than the ${n} values its shape says`);
  if (body + n * width < buf.length) throw bad(`holds more bytes than the ${n} values its shape says`);
  const data = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    data[k] = read(body + k * width);
    if (!Number.isFinite(data[k])) throw bad(`entry ${k + 1} is ${data[k]}; values must be finite`);
  }
  return { shape, data };
}

/** The header dict, exactly as NumPy writes it: {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), } */
function parseHeader(text: string, bad: (why: string) => AgError): { descr: string; fortran: boolean; shape: number[] } {
  const t = text.replace(/[\s\n]+$/, '');
  let i = 0;
  const ws = () => {
    while (i < t.length && (t[i] === ' ' || t[i] === '\t')) i++;
  };
  const expect = (c: string) => {
    ws();
    if (t[i] !== c) throw bad(`malformed header (expected ${c} at byte ${i + 1})`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = t[i];
    if (q !== "'" && q !== '"') throw bad(`malformed header (expected a quoted string at byte ${i + 1})`);
    const end = t.indexOf(q, i + 1);
    if (end < 0) throw bad('malformed header (an unclosed string)');
    const s = t.slice(i + 1, end);
    i = end + 1;
    return s;
  };
  const fields = new Map<string, unknown>();
  expect('{');
  for (;;) {
    ws();
    if (t[i] === '}') break;
    const key = str();
    if (!['descr', 'fortran_order', 'shape'].includes(key)) throw bad(`unexpected header key ${JSON.stringify(key.slice(0, 20))}`);
    if (fields.has(key)) throw bad(`the header gives ${key} twice`);
    expect(':');
    ws();
    if (key === 'descr') fields.set(key, str());
    else if (key === 'fortran_order') {
      const m = /^(True|False)/.exec(t.slice(i));
      if (!m) throw bad('malformed header (fortran_order must be True or False)');
      fields.set(key, m[1] === 'True');
      i += m[1].length;
    } else {
      const m = /^\(\s*((?:\d+\s*,\s*)*(?:\d+\s*,?\s*)?)\)/.exec(t.slice(i));
      if (!m) throw bad('malformed header (shape must be a tuple of whole numbers, like (3, 4))');
      fields.set(
        key,
        m[1]
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
          .map(Number),
      );
      i += m[0].length;
    }
    ws();
    if (t[i] === ',') {
      i++;
      continue;
    }
    ws();
    if (t[i] !== '}') throw bad(`malformed header (expected , or } at byte ${i + 1})`);
  }
  i++;
  ws();
  if (i !== t.length) throw bad('malformed header (text after the closing })');
  for (const k of ['descr', 'fortran_order', 'shape']) if (!fields.has(k)) throw bad(`the header has no ${k}`);
  const shape = fields.get('shape') as number[];
  if (shape.some((d) => !Number.isSafeInteger(d))) throw bad('the shape has a dimension too large to count');
  return { descr: fields.get('descr') as string, fortran: fields.get('fortran_order') as boolean, shape };
}
