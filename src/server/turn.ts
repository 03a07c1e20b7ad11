// The end of an event-loop turn: where the server does the work that all
// the requests read in one turn share, as Redis does before it sleeps.
// First the keyspace commits the turn's writes as one batch (one WAL
// write; one fsync with --appendfsync always); then each connection hands
// the replies it gathered to its socket in one write. Without this, 50
// clients sending one request each cost 50 WAL writes and 50 socket
// writes per turn, where they now cost one and 50.
//
// Order: one immediate runs the turn's commit tasks, then its flush
// tasks, so the replies the commits settle are in their writers before
// the flushes, whatever order the work came in. Each phase takes its tasks
// before running them: a commit queued while the phase runs (a connection
// ran more requests on a reply) is for the next turn; a flush queued while
// the commits run goes out in this turn's flush phase.
import { setImmediate } from 'node:timers';

type Task = () => void;

// Tasks are kept in arrays, not sets: a caller queues its task at most once
// until it runs (the keyspace once per group, a connection once per turn),
// which a set's add checked again on every request.
export class TurnEnd {
  #commits: Task[] = [];
  #flushes: Task[] = [];
  /** An immediate is queued that has not begun: a task joins it. */
  #queued = false;
  readonly #run = (): void => {
    this.#queued = false;
    const commits = this.#commits;
    this.#commits = [];
    for (const task of commits) task();
    const flushes = this.#flushes;
    this.#flushes = [];
    for (const task of flushes) task();
  };

  /** Runs `task` at the end of this turn, before any flush. Precondition: `task` is not queued already. */
  commit(task: Task): void {
    this.#commits.push(task);
    this.#queue();
  }

  /** Runs `task` at the end of this turn, after the commits and the replies they settle. Precondition: `task` is not queued already. */
  flush(task: Task): void {
    this.#flushes.push(task);
    this.#queue();
  }

  #queue(): void {
    if (this.#queued) return;
    this.#queued = true;
    setImmediate(this.#run);
  }
}
