#!/usr/bin/env node
// The built CLI bundle (npm run build, run by `prepare` on install).
import('../dist/cli.js').catch((e) => {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/cli.js')) {
    process.stderr.write('error: autograd-cli is not built; run `npm run build` in its folder\n');
    process.exit(2);
  }
  throw e;
});
