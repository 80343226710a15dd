import { spawn, type ChildProcess } from 'node:child_process';
import { AgError } from '../../core/errors.js';
import { bytesText } from '../../core/limits.js';
import { shorten } from '../../core/safe-text.js';
import type { AsyncEvaluator, Batch, BatchValues, FunctionUnderTest } from '../../verify/evaluator.js';
import { nested, type Flat } from '../../verify/forms.js';
import { changedBy, pointOf, readGradient, readOutput, valuesAt, type PointValues } from './js-function.js';
import { entryNamer } from '../../verify/fd.js';
import { descendants, endOrphans, killTree, unwatch, watch, type Seen } from './reaper.js';

/**
 * A program over a pipe as the function under test: started once, it reads one JSON
 * request per line on its stdin and writes one JSON answer per line on its stdout.
 *
 *   → {"id": 1, "values": {"W": [[…]], "x": […]}, "want": ["value"]}
 *   ← {"id": 1, "value": 0.25}
 *   → {"id": 2, "values": {…}, "want": ["value", "gradient"]}          (a scalar f)
 *   ← {"id": 2, "value": 0.25, "gradient": {"W": [[…]], "x": […]}}
 *   → {"id": 3, "values": {…}, "want": ["value", "vjp"], "cotangent": […]}   (a tensor f)
 *   ← {"id": 3, "value": […], "gradient": {"W": …, "x": …}}
 *
 * That form is always enough. A program may opt into batches by writing
 * {"hello": {"batch": true}} before its first answer; value requests then come as
 * {"id", "batch": [{"values": …}, …], "want": ["value"]}, answered {"id", "values": […]}.
 *
 * The program is untrusted: every answer must come within the request time-out, a line
 * may not exceed `maxLine` bytes, anything it writes that does not fit the protocol ends
 * the run with an error naming the request, and the program (its whole process group,
 * and on Linux whatever left the group: src/subjects/code/reaper.ts) is killed at the end, on
 * any error, and when the CLI itself is stopped. Requests are pipelined (up to `WINDOW`
 * in flight), so a one-line-at-a-time program costs one round trip per batch, not per
 * point; each is built just before it is written, one at a time, and the next waits for
 * the pipe to drain: a program that stops reading its input is a request time-out, and
 * what the pipe holds (the request on its way out, a partial answer line, the tail of
 * stderr) is counted against `maxMemory`.
 */

export interface PipeOptions {
  /** seconds an answer may take (counted from the later of its request and the previous answer) */
  requestTimeout: number;
  /** bytes one line of the program's output may take */
  maxLine: number;
  /** seconds the whole run may take (the shared time limit) */
  deadline?: number;
  /** what the program is called in messages: `--exec python3 layer.py`, `--module layer.mjs#loss` */
  label: string;
  /** bytes the pipe may hold at once (--max-memory): a request on its way out and an answer line */
  maxMemory?: number;
  /** the working directory and environment */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * the program is this package's own adapter (--python, --torch): its "error" answers are
   * whole messages for the user, printed as they come after the label (on one line), and
   * --request-timeout counts from its hello (its start is bounded by the deadline alone)
   */
  adapter?: boolean;
}

/** Requests in flight at once (the pipe's buffers hold the rest). */
const WINDOW = 64;
/** Points per batch message, for a program that opted in. */
const BATCH_POINTS = 256;
/** The tail of the program's stderr kept for error messages (a flood costs no more). */
const STDERR_TAIL = 2000;
/** Bytes of request text per batch message, for a program that opted in: fewer points when each is large. */
const BATCH_BYTES = 8 * 2 ** 20;
/** Bytes one number takes in a request, at most (`-1.2345678901234567e-300,`). */
const NUMBER_BYTES = 26;

/** Characters a shell would treat specially: such a command runs under /bin/sh -c; anything else is split into words and run directly. */
const SHELL_CHARS = /[|&;<>()$`*?[\]{}~!#\n]/;

/**
 * `python3 "my layer.py" --fast` → ['python3', 'my layer.py', '--fast']: words split on
 * blanks, '…' and "…" quoting, backslash escapes. Null when the command needs a shell
 * (pipes, redirections, variables, globs).
 */
export function splitCommand(cmd: string): string[] | null {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i];
    if (c === "'") {
      const end = cmd.indexOf("'", i + 1);
      if (end < 0) throw new AgError('usage', `--exec: the quote at column ${i + 1} is never closed`, { source: cmd, span: { start: i, end: i + 1 } });
      cur += cmd.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < cmd.length && cmd[j] !== '"'; j++) {
        if (cmd[j] === '\\' && j + 1 < cmd.length && '"\\'.includes(cmd[j + 1])) j++;
        else if (cmd[j] === '$' || cmd[j] === '`') return null;
        cur += cmd[j];
      }
      if (j >= cmd.length) throw new AgError('usage', `--exec: the quote at column ${i + 1} is never closed`, { source: cmd, span: { start: i, end: i + 1 } });
      i = j;
      inWord = true;
    } else if (c === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if (SHELL_CHARS.test(c)) {
      return null;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

interface Pending {
  id: number;
  what: string;
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  sent: number;
}

/** One running program and its line protocol. */
export class Pipe {
  private child: ChildProcess;
  private buf = '';
  private bufBytes = 0;
  private pending = new Map<number, Pending>();
  private order: number[] = [];
  private nextId = 1;
  private failed: AgError | null = null;
  private stderr = '';
  private lastAnswer = 0;
  private timer: NodeJS.Timeout | null = null;
  private exited = false;
  private lineNo = 0;
  /** requests are written one at a time, each after the one before it has drained */
  private writing: Promise<void> = Promise.resolve();
  /** the request whose text is waiting for the pipe to drain, and since when */
  private blocked: { p: Pending; since: number; release: () => void } | null = null;
  batch = false;

  constructor(
    argv: string[] | null,
    command: string,
    private opts: PipeOptions,
  ) {
    // detached: the program leads its own process group, so everything it started is killed with it
    const child = argv
      ? spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true, cwd: opts.cwd, env: opts.env })
      : spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, cwd: opts.cwd, env: opts.env });
    this.child = child;
    watch(this);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => this.onData(s));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      this.stderr = (this.stderr + s.slice(-STDERR_TAIL)).slice(-STDERR_TAIL);
    });
    child.stdin!.on('error', () => {
      // EPIPE: the program stopped reading; its exit says why
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      this.exited = true;
      const why =
        e.code === 'ENOENT'
          ? `there is no program called ${argv ? argv[0] : '/bin/sh'}`
          : e.code === 'EACCES'
            ? `${argv ? argv[0] : '/bin/sh'} is not executable`
            : e.message;
      this.fail(new AgError('io', `${this.opts.label}: cannot start it: ${why}`));
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      // the rest of its output may still be in the pipe: judge after it is read
      setImmediate(() => {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const first = this.order.length ? this.pending.get(this.order[0]) : undefined;
        if (first || !this.closing)
          this.fail(new AgError('io', `${this.where(first)}the program ${how}${first ? ' before answering' : ''}${this.stderrText()}`));
      });
    });
    this.timer = setInterval(() => this.checkTime(), 50);
    this.timer.unref();
  }

  private closing = false;
  private killed = false;
  private tree: Seen[] = [];
  /** the program said hello */
  private up = false;

  private where(p?: Pending): string {
    return p ? `${this.opts.label}: request ${p.id} (${p.what}): ` : `${this.opts.label}: `;
  }

  private stderrText(): string {
    const t = this.stderr.trim();
    if (!t) return '';
    // an untrusted program's text: shown, not obeyed (no terminal control; its tabs kept), each line cut short
    const lines = t
      .split('\n')
      .slice(-5)
      .map((l) => shown(shorten(l, 198, 'end'), { tabs: true }));
    return `; its stderr ended with:\n    ${lines.join('\n    ')}`;
  }

  private started = performance.now();

  private checkTime(): void {
    if (this.failed) return;
    if (this.opts.deadline !== undefined && performance.now() - this.started > this.opts.deadline * 1000) {
      const p = this.order.length ? this.pending.get(this.order[0]) : undefined;
      this.fail(new AgError('limit', `${this.where(p)}the check took longer than ${this.opts.deadline} s (--timeout)`));
      return;
    }
    const b = this.blocked;
    if (b && performance.now() - b.since > this.opts.requestTimeout * 1000) {
      this.fail(
        new AgError(
          'limit',
          `${this.where(b.p)}the program stopped reading its input: the request could not be written within ${this.opts.requestTimeout} s (--request-timeout)${this.stderrText()}`,
        ),
      );
      return;
    }
    // the adapter's start (the interpreter, NumPy or torch, the user's file) is bounded by the run's deadline alone
    if (!this.order.length || (this.opts.adapter && !this.up)) return;
    const p = this.pending.get(this.order[0])!;
    const since = Math.max(p.sent, this.lastAnswer);
    if (performance.now() - since > this.opts.requestTimeout * 1000) {
      this.fail(new AgError('limit', `${this.where(p)}no answer within ${this.opts.requestTimeout} s (--request-timeout)${this.stderrText()}`));
    }
  }

  private onData(s: string): void {
    if (this.failed) return;
    let start = 0;
    for (;;) {
      const nl = s.indexOf('\n', start);
      if (nl < 0) break;
      const line = this.buf + s.slice(start, nl);
      this.buf = '';
      this.bufBytes = 0;
      start = nl + 1;
      this.onLine(line);
      if (this.failed) return;
    }
    this.buf += s.slice(start);
    this.bufBytes += Buffer.byteLength(s) - Buffer.byteLength(s.slice(0, start));
    if (this.bufBytes > this.opts.maxLine) {
      const p = this.order.length ? this.pending.get(this.order[0]) : undefined;
      this.fail(new AgError('limit', `${this.where(p)}the program wrote a line longer than ${this.opts.maxLine} bytes (the answer can be at most that long)`));
    }
  }

  private onLine(raw: string): void {
    this.lineNo++;
    const line = raw.replace(/\r$/, '');
    const first = this.order.length ? this.pending.get(this.order[0]) : undefined;
    if (Buffer.byteLength(line) > this.opts.maxLine) {
      this.fail(new AgError('limit', `${this.where(first)}the program wrote a line longer than ${this.opts.maxLine} bytes`));
      return;
    }
    if (!line.trim()) return;
    let msg: unknown;
    try {
      msg = parseAnswer(line);
    } catch {
      this.fail(
        new AgError('bad-value', `${this.where(first)}line ${this.lineNo} of the program's output is not JSON: ${preview(line)}`, {
          hint: 'the program must write only JSON answers, one per line, on stdout (print anything else to stderr)',
        }),
      );
      return;
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.fail(new AgError('bad-value', `${this.where(first)}line ${this.lineNo} of the program's output is not a JSON object: ${preview(line)}`));
      return;
    }
    const o = msg as Record<string, unknown>;
    if ('hello' in o && !('id' in o)) {
      const h = o.hello as Record<string, unknown> | null;
      this.batch = typeof h === 'object' && h !== null && h.batch === true;
      // it is up: the first request's time starts now, not before the program's own start
      if (!this.lastAnswer) this.lastAnswer = performance.now();
      this.up = true;
      return;
    }
    if (!('id' in o)) {
      this.fail(new AgError('bad-value', `${this.where(first)}the answer on line ${this.lineNo} has no "id": ${preview(line)}`));
      return;
    }
    const p = typeof o.id === 'number' ? this.pending.get(o.id) : undefined;
    if (!p) {
      this.fail(
        new AgError(
          'bad-value',
          `${this.where(first)}the program answered id ${typeof o.id === 'number' ? o.id : preview(JSON.stringify(o.id) ?? String(o.id))}, but ${this.order.length ? `request ${this.order.join(', ')} ${this.order.length > 1 ? 'are' : 'is'} waiting` : 'no request is waiting'}`,
        ),
      );
      return;
    }
    if ('error' in o) {
      const text = typeof o.error === 'string' ? o.error : JSON.stringify(o.error);
      if (this.opts.adapter) this.fail(new AgError('bad-value', `${this.opts.label}: ${p.id === 1 ? '' : `${p.what}: `}${oneLine(text)}`));
      else this.fail(new AgError('bad-value', `${this.where(p)}the program answered with an error: ${preview(text)}`));
      return;
    }
    this.pending.delete(p.id);
    this.order.splice(this.order.indexOf(p.id), 1);
    this.lastAnswer = performance.now();
    p.resolve(o);
  }

  private fail(e: AgError): void {
    if (this.failed) return;
    this.failed = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.order = [];
    this.blocked?.release();
    this.kill();
  }

  label(): string {
    return this.opts.label;
  }

  /** An answer that does not fit the protocol: the error names its request; the program is stopped. */
  error(a: Record<string, unknown>, what: string, message: string, hint?: string): AgError {
    const e = new AgError('bad-value', `${this.opts.label}: request ${String(a.id)} (${what}): ${message}`, hint ? { hint } : undefined);
    this.fail(e);
    return e;
  }

  /** Send a request; the answer object, its id checked. */
  request(body: Record<string, unknown>, what: string): Promise<Record<string, unknown>> {
    return this.requestMade(() => ({ body, what }));
  }

  /** A request whose body is built when its turn to be written comes, not before. */
  private requestMade(make: () => { body: Record<string, unknown>; what: string }): Promise<Record<string, unknown>> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.writing = this.writing.then(() => this.send(make, resolve, reject)).catch(reject);
    });
  }

  /** Write one request, then wait (within the request time-out, see checkTime) until the pipe has taken it. */
  private async send(make: () => { body: Record<string, unknown>; what: string }, resolve: Pending['resolve'], reject: Pending['reject']): Promise<void> {
    if (this.failed) return reject(this.failed);
    const { body, what } = make();
    const id = this.nextId++;
    const p: Pending = { id, what, resolve, reject, sent: performance.now() };
    this.pending.set(id, p);
    this.order.push(id);
    if (this.exited) return this.fail(new AgError('io', `${this.where(p)}the program has exited${this.stderrText()}`));
    const text = `${JSON.stringify({ id, ...body })}\n`;
    // held at once: the text (up to 2 bytes a character in V8), its UTF-8 copy in the pipe's buffer, an answer line
    const holds = 3 * text.length + 2 * this.opts.maxLine + STDERR_TAIL;
    if (this.opts.maxMemory !== undefined && holds > this.opts.maxMemory) {
      return this.fail(
        new AgError(
          'limit',
          `${this.where(p)}the request and its answer would hold about ${bytesText(holds)} in the pipe; the limit is ${bytesText(this.opts.maxMemory)} (--max-memory)`,
        ),
      );
    }
    p.sent = performance.now();
    if (this.child.stdin!.write(text)) return;
    await new Promise<void>((release) => {
      const done = () => {
        this.child.stdin!.off('drain', done);
        this.blocked = null;
        release();
      };
      this.blocked = { p, since: performance.now(), release: done };
      this.child.stdin!.on('drain', done);
    });
  }

  /** Requests with at most WINDOW in flight; answers in request order. */
  async requestAll(bodies: { body: Record<string, unknown>; what: string }[]): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = new Array(bodies.length);
    await this.requestEach(
      bodies.length,
      (k) => bodies[k],
      (a, k) => (out[k] = a),
    );
    return out;
  }

  /**
   * `count` requests with at most WINDOW in flight, each built by `make` just before it
   * is written (so no more than one request's text exists at a time); `each` takes the
   * answers as they come.
   */
  async requestEach(
    count: number,
    make: (k: number) => { body: Record<string, unknown>; what: string },
    each: (a: Record<string, unknown>, k: number, what: string) => void,
  ): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < count) {
        const k = next++;
        let what = '';
        const a = await this.requestMade(() => {
          const r = make(k);
          what = r.what;
          return r;
        });
        each(a, k, what);
      }
    };
    await Promise.all(Array.from({ length: Math.min(WINDOW, count) }, lane));
  }

  /** The run is over: close its stdin, give it a moment to exit, then kill the group. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    if (!this.exited) {
      // its tree while it runs: a child in another session is no longer under it once it exits
      this.tree = this.child.pid !== undefined ? descendants(this.child.pid) : [];
      this.child.stdin!.end();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.kill();
  }

  /** End the program's process group now (synchronous: also on the way out of a dying CLI). */
  kill(): void {
    if (this.timer) clearInterval(this.timer);
    this.closing = true;
    const pid = this.child.pid;
    unwatch(this);
    if (pid === undefined || this.killed) return;
    this.killed = true;
    // the tree under a program that has exited is gone: its group may still hold a child
    killTree(pid, !this.exited, this.tree);
    endOrphans();
    this.child.stdout!.destroy();
    this.child.stderr!.destroy();
    this.child.stdin!.destroy();
  }

  /** The program's pid while it runs (its process group's id). */
  pid(): number | undefined {
    return this.exited ? undefined : this.child.pid;
  }
}

/** JSON, with the NaN / Infinity / -Infinity that Python's json writes by default read as numbers. */
export function parseAnswer(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (e) {
    if (!/NaN|Infinity/.test(line)) throw e;
  }
  const marked = line.replace(/("(?:[^"\\]|\\.)*")|(-?Infinity|NaN)/g, (_m, str, special) => (str ? str : `{"\u2063":"${special}"}`));
  return JSON.parse(marked, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && '\u2063' in v ? Number(v['\u2063']) : v,
  );
}

/** A message on one line, control characters escaped. */
function oneLine(s: string): string {
  return shown(s.replace(/\s+/g, ' '));
}

function preview(s: string): string {
  return shown(JSON.stringify(shorten(s, 80, 'end')));
}

/** Control characters from an untrusted program are shown, not obeyed (`tabs`: a tab is kept as it is). */
function shown(s: string, o: { tabs?: boolean } = {}): string {
  return s.replace(
    o.tabs ? /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g : /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The values as JSON sends them: every input as nested arrays (a number for a scalar). */
const jsonValues = (pv: PointValues, x: Float64Array, changed?: Set<string>) => valuesAt(pv, x, changed, true);

/**
 * The program as an asynchronous function under test. Its value at the point comes
 * first (one request), which fixes the output's shape.
 */
export async function pipeFunction(pipe: Pipe, pv: PointValues): Promise<{ fn: FunctionUnderTest; evaluator: AsyncEvaluator; value: Flat }> {
  const name = entryNamer(pv.wrt);
  const first = await pipe.request({ values: jsonValues(pv, pv.point), want: ['value'] }, 'the value at the point');
  const value = answerValue(pipe, first, null, 'the value at the point');
  const m = value.data.length;
  if (m === 0) throw new AgError('bad-value', `${pipe.label()}: request 1 (the value at the point): the value is an empty tensor`);
  const work = new Float64Array(pv.point.length);
  const pointWhat = (b: Batch, p: number) => {
    const j = b.coord[p];
    const d = Number(b.delta[p].toPrecision(3));
    if (d === 0) return 'the value at the point';
    return j >= 0 ? `the value at ${name(j).name} ${d < 0 ? '−' : '+'} ${Math.abs(d)}` : `the value along a random direction, step ${d}`;
  };
  // a point's request text, at most: every input's entries (a batch holds fewer points when they are large)
  const pointBytes = NUMBER_BYTES * pv.names.reduce((s, k) => s + pv.flats[k].data.length, 0) + 64;
  const perBatch = Math.max(1, Math.min(BATCH_POINTS, Math.floor(BATCH_BYTES / pointBytes)));
  const evaluate = async (b: Batch): Promise<BatchValues> => {
    const values = new Float64Array(b.coord.length * m);
    const n = b.coord.length;
    // each request is built when its turn to be written comes, its answer read as it comes: nothing waits in memory
    if (pipe.batch) {
      const makeBatch = (k: number) => {
        const p0 = k * perBatch;
        const pts = [];
        for (let p = p0; p < Math.min(n, p0 + perBatch); p++) pts.push({ values: jsonValues(pv, pointOf(pv.point, b, p, work), changedBy(pv, b.coord[p])) });
        return {
          body: { batch: pts, want: ['value'] },
          what: pts.length === 1 ? pointWhat(b, p0) : `a batch of ${pts.length} values, the first ${pointWhat(b, p0).replace(/^the value /, '')}`,
        };
      };
      await pipe.requestEach(Math.ceil(n / perBatch), makeBatch, (a, k, what) => {
        const list = a.values;
        const count = Math.min(perBatch, n - k * perBatch);
        if (!Array.isArray(list) || list.length !== count)
          throw pipe.error(a, what, `the answer to a batch must have "values": a list of ${count} values${Array.isArray(list) ? `, not ${list.length}` : ''}`);
        list.forEach((v, q) => values.set(readAnswerValue(pipe, a, v, value.shape, what).data, (k * perBatch + q) * m));
      });
      return { values };
    }
    const makeOne = (p: number) => ({
      body: { values: jsonValues(pv, pointOf(pv.point, b, p, work), changedBy(pv, b.coord[p])), want: ['value'] },
      what: pointWhat(b, p),
    });
    await pipe.requestEach(n, makeOne, (a, p, what) => values.set(answerValue(pipe, a, value.shape, what).data, p * m));
    return { values };
  };
  const base = jsonValues(pv, pv.point);
  const evaluator: AsyncEvaluator = {
    evaluate,
    async vjp(u) {
      const scalar = m === 1 && value.shape.length === 0;
      const what = scalar ? 'the gradient at the point' : 'a vjp at the point';
      const a = await pipe.request(
        scalar ? { values: base, want: ['value', 'gradient'] } : { values: base, want: ['value', 'vjp'], cotangent: nested(value.shape, u) },
        what,
      );
      if (!('gradient' in a)) throw pipe.error(a, what, `the answer has no "gradient"${scalar ? '' : ' (the vjp goes in "gradient")'}`);
      try {
        const g = readGradient(a.gradient, pv, '"gradient"');
        if (scalar) for (let k = 0; k < g.length; k++) g[k] *= u[0];
        return g;
      } catch (e) {
        throw e instanceof AgError ? pipe.error(a, what, e.message, e.hint) : e;
      }
    },
  };
  return { fn: { inputs: pv.wrt, point: pv.point, outputs: m, value: value.data }, evaluator, value };
}

function answerValue(pipe: Pipe, a: Record<string, unknown>, shape: readonly number[] | null, what: string): Flat {
  if (!('value' in a)) throw pipe.error(a, what, 'the answer has no "value"');
  return readAnswerValue(pipe, a, a.value, shape, what);
}

function readAnswerValue(pipe: Pipe, a: Record<string, unknown>, v: unknown, shape: readonly number[] | null, what: string): Flat {
  try {
    return readOutput(v, shape, '"value"');
  } catch (e) {
    throw e instanceof AgError ? pipe.error(a, what, e.message, e.hint) : e;
  }
}
