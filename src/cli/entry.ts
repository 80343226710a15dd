import { main } from './main.js';

// Like any Unix tool: output into a closed pipe (`autograd-cli … | head -1`) ends the
// program quietly. Handled once, here, for both streams: no "Unhandled 'error' event".
// The streams are made when first used (most commands write with writeSync and never
// make them: ~10 ms of start-up), so the handler is attached then.
const onError = (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  // anything else on a standard stream: there is nowhere left to report it
  process.exit(2);
};
for (const name of ['stdout', 'stderr'] as const) {
  const made = Object.getOwnPropertyDescriptor(process, name);
  if (!made?.get || !made.configurable) {
    process[name].on('error', onError);
    continue;
  }
  let stream: NodeJS.WriteStream | undefined;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: made.enumerable,
    get() {
      if (!stream) {
        stream = made.get!.call(process) as NodeJS.WriteStream;
        stream.on('error', onError);
      }
      return stream;
    },
  });
}

main().catch((e: unknown) => {
  // a bug escaped every handler: one line, never a stack trace
  try {
    process.stderr.write(`error: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  } catch {
    // stderr is gone too
  }
  process.exit(2);
});
