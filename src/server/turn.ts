// The end of an event-loop turn: where the server does the work that all
// the requests read in one turn share, as Redis does before it sleeps.
// First the keyspace commits the turn's writes as one batch (one WAL
// write; one fsync with --appendfsync always); then each connection hands
// the replies it gathered to its socket in one write. Without this, 50
// clients sending one request each cost 50 WAL writes and 50 socket
// writes per turn, where they now cost one and 50.
//
// Order: Node runs the immediates queued before its check phase began in
// queue order, and drains microtasks after each. Whatever is scheduled
// first in a turn queues two immediates, the commit phase and then the
// flush phase, so the replies the commits resolve are in their writers
// before the flushes, whatever order the work came in. Work scheduled
// once its phase has begun (a connection runs more requests after a reply
// went out) is queued for the next turn.
import { setImmediate } from 'node:timers';

type Task = () => void;

// Tasks are kept in arrays, not sets: a caller queues its task at most once
// until it runs (the keyspace once per group, a connection once per turn),
// which a set's add checked again on every request.
export class TurnEnd {
  #commits: Task[] = [];
  #flushes: Task[] = [];
  /** The commit phase of a queued pair has not begun: a commit joins it. */
  #commitQueued = false;
  /** The flush phase of a queued pair has not begun: a flush joins it. */
  #flushQueued = false;

  /** Runs `task` at the end of this turn, before any flush. Precondition: `task` is not queued already. */
  commit(task: Task): void {
    this.#commits.push(task);
    if (!this.#commitQueued) this.#queuePhases();
  }

  /** Runs `task` at the end of this turn, after the commits and the replies they resolve. Precondition: `task` is not queued already. */
  flush(task: Task): void {
    this.#flushes.push(task);
    if (!this.#flushQueued) this.#queuePhases();
  }

  #queuePhases(): void {
    this.#commitQueued = true;
    this.#flushQueued = true;
    // Each phase takes its tasks before running them: one queued again meanwhile is for the next turn.
    setImmediate(() => {
      this.#commitQueued = false;
      const tasks = this.#commits;
      this.#commits = [];
      for (const task of tasks) task();
    });
    setImmediate(() => {
      this.#flushQueued = false;
      const tasks = this.#flushes;
      this.#flushes = [];
      for (const task of tasks) task();
    });
  }
}
