// Running a JavaScript file in a child process under the runtime that runs
// the tests (npm run test:deno and test:bun run the suite under Deno and
// Bun): Node and Bun take the file; Deno needs `run`, permissions, and
// node_modules resolution for files outside a project folder.
export const isDeno = 'Deno' in globalThis;

/** The command and leading arguments that run a script file. */
export const scriptRunner: [string, ...string[]] = isDeno ? [process.execPath, 'run', '--allow-all', '--node-modules-dir=manual'] : [process.execPath];

/** Node itself, for what must run on Node whatever runs the tests: `node` on the PATH under Deno or Bun. */
export const nodeBinary = isDeno || 'Bun' in globalThis ? 'node' : process.execPath;
