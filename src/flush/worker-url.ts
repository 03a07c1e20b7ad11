// Where the table-building worker's script is. Built code runs dist/flush/
// worker.js beside this file; when the engine runs from its TypeScript
// sources (vitest), a worker cannot load .ts, so it uses the built copy,
// which `npm test` builds first.
export function workerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('../../dist/flush/worker.js', here);
  return new URL('./worker.js', here);
}
