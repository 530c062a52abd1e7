import { Worker, type WorkerOptions } from 'node:worker_threads'

/**
 * A worker thread running `script`, a module next to its caller. The built hub runs the
 * compiled `.js`; run from the TypeScript sources (tsx, vitest) the caller's URL ends in
 * `.ts`, and Node 20 gives a thread no loader of its own, so the thread registers tsx's
 * before importing the script. Either way the thread runs the same code as its caller.
 */
export function startThread(
  caller: string,
  name: string,
  options: Omit<WorkerOptions, 'eval'> = {},
): Worker {
  if (!caller.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, caller), options)
  const script = new URL(`./${name}.ts`, caller).href
  return new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(script)}) })`,
    { ...options, eval: true },
  )
}
