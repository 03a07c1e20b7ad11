// How long work on this thread held the event loop, as CPU time rather than
// wall time. On a shared virtual machine the hypervisor can stop the whole
// guest for hundreds of milliseconds (measured: a 588 ms event-loop delay
// in which the main thread ran for none of it); a wall-clock delay then
// says nothing about the code under test. A probe timer fires every
// millisecond; the thread's CPU time between two firings is what held the
// loop. Linux gives a thread's CPU time in /proc (10 ms ticks); elsewhere
// the probe falls back to wall time.
import { existsSync, readFileSync } from 'node:fs';

const STAT = `/proc/self/task/${process.pid}/stat`;

/** CPU ms this (the main) thread has used, or undefined where /proc is not there. */
function mainThreadCpuMs(): number | undefined {
  if (!existsSync(STAT)) return undefined;
  // Fields after the command name: utime and stime are the 12th and 13th, in 10 ms ticks.
  const fields = readFileSync(STAT, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export interface LoopHold<T> {
  result: T;
  /** The longest the loop was held between two probes: main-thread CPU ms (wall ms where that is not known). */
  maxHoldMs: number;
  /** The longest wall-clock gap between two probes, whatever held the loop. */
  maxWallMs: number;
}

/** Runs `work` while probing the event loop every millisecond. */
export async function measureLoopHold<T>(work: () => Promise<T>): Promise<LoopHold<T>> {
  let lastWall = performance.now();
  let lastCpu = mainThreadCpuMs();
  let maxHoldMs = 0;
  let maxWallMs = 0;
  const probe = (): void => {
    const wall = performance.now();
    const cpu = mainThreadCpuMs();
    maxWallMs = Math.max(maxWallMs, wall - lastWall);
    maxHoldMs = Math.max(maxHoldMs, cpu === undefined || lastCpu === undefined ? wall - lastWall : cpu - lastCpu);
    lastWall = wall;
    lastCpu = cpu;
  };
  const timer = setInterval(probe, 1);
  try {
    const result = await work();
    probe();
    return { result, maxHoldMs, maxWallMs };
  } finally {
    clearInterval(timer);
  }
}
