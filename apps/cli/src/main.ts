/**
 * polykernel: the command-line front end. Thin: parse arguments, call the packages, print. Each
 * command's module (and the packages behind it) loads only when that command runs, so `--help`
 * stays fast.
 */
import { EXIT, outputFailure } from './exit.js';
import { runCli } from './cli.js';

// `polykernel ... | head`: a closed pipe ends the output quietly, as for any Unix tool; any other
// asynchronous write error (ENOSPC on /dev/full, EIO) is one line and exit status 1.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(EXIT.ok);
  process.stderr.write(outputFailure(e) + '\n');
  process.exit(EXIT.failure);
});

process.exitCode = await runCli(process.argv);
