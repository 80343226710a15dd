import { main } from './main.js';

// Like any Unix tool: output into a closed pipe (`autograd-cli … | head -1`) ends the
// program quietly. Handled once, here, for both streams: no "Unhandled 'error' event".
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    // anything else on a standard stream: there is nowhere left to report it
    process.exit(2);
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
