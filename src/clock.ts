// The wall clock that decides when values with expiry lapse. Injectable
// (open()'s `clock` option) so tests advance time without waiting.
// Assumed not to go backwards: an expired value that compaction has already
// dropped does not come back if it does.

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
