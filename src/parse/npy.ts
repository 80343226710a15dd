import { readFileSync } from 'node:fs';
import { AgError } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** Read a NumPy .npy file: float64 or float32, C order, 0-, 1- or 2-D. Anything else is a clear error. */
export function readNpy(path: string): Tensor {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new AgError('io', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const bad = (why: string) => new AgError('bad-value', `${path}: ${why}`);
  if (buf.length < 10 || buf.readUInt8(0) !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') throw bad('not a .npy file (bad magic)');
  const major = buf.readUInt8(6);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > buf.length) throw bad('truncated header');
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw bad('unreadable header');
  if (fortran === 'True') throw bad('Fortran-ordered arrays are not supported; save with np.ascontiguousarray');
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.length > 2) throw bad(`${shape.length}-D arrays are not supported (only scalars, vectors and matrices)`);
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) throw bad(`bad shape (${shapeText})`);
  const n = shape.reduce((p, d) => p * d, 1);
  const body = start + headerLen;
  let width: number;
  let read: (o: number) => number;
  switch (descr) {
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
      throw bad(`dtype ${descr} is not supported (use float64 or float32)`);
  }
  if (body + n * width > buf.length) throw bad(`holds fewer than the ${n} values its shape says`);
  const data = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    data[k] = read(body + k * width);
    if (!Number.isFinite(data[k])) throw bad(`entry ${k + 1} is ${data[k]}; values must be finite`);
  }
  return { shape, data };
}
