// Who hears about the live view's changes: `on` callbacks, async iterators (each bounded:
// one that falls STREAM_MAX events behind fails rather than growing), and changed() waiters.
import type { ChangeEvent, Rejection } from "./events.js";

const STREAM_MAX = 1000;

type Listeners = { change: ((event: ChangeEvent) => void)[]; rejected: ((r: Rejection) => void)[] };

class Stream {
  readonly queue: ChangeEvent[] = [];
  wake: (() => void) | undefined;
  ended = false;
  overflowed = false;
}

export class Announcer {
  #listeners: Listeners = { change: [], rejected: [] };
  #streams = new Set<Stream>();
  #waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  on(kind: "change" | "rejected", callback: (arg: never) => void): void {
    (this.#listeners[kind] as unknown[]).push(callback);
  }

  off(kind: "change" | "rejected", callback: (arg: never) => void): void {
    const list = this.#listeners[kind] as unknown[];
    const at = list.indexOf(callback);
    if (at >= 0) list.splice(at, 1);
  }

  /** Resolves at the next report; rejects with `ended` at once, or when end() comes. */
  changed(ended: Error | undefined): Promise<void> {
    if (ended) return Promise.reject(ended);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  iterate(ended: boolean): AsyncIterator<ChangeEvent> {
    const stream = new Stream();
    stream.ended = ended;
    this.#streams.add(stream);
    const done = (): IteratorResult<ChangeEvent> => {
      this.#streams.delete(stream);
      return { done: true, value: undefined };
    };
    return {
      next: async () => {
        while (stream.queue.length === 0) {
          if (stream.overflowed) {
            this.#streams.delete(stream);
            throw new Error(`more than ${STREAM_MAX} events waited: re-read the view and iterate again`);
          }
          if (stream.ended) return done();
          await new Promise<void>((resolve) => (stream.wake = resolve));
        }
        return { done: false, value: stream.queue.shift()! };
      },
      return: async () => done(),
    };
  }

  report(events: ChangeEvent[]): void {
    if (events.length === 0) return;
    for (const event of events) {
      for (const callback of [...this.#listeners.change]) safely(() => callback(event));
      for (const stream of this.#streams) {
        if (stream.queue.length >= STREAM_MAX) stream.overflowed = true;
        else stream.queue.push(event);
        stream.wake?.();
      }
    }
    const waiters = this.#waiters.splice(0);
    for (const waiter of waiters) waiter.resolve();
  }

  rejected(rejection: Rejection): void {
    for (const callback of [...this.#listeners.rejected]) safely(() => callback(rejection));
  }

  /** Every iterator ends; every changed() waiter rejects with `error`. */
  end(error: Error): void {
    for (const stream of this.#streams) {
      stream.ended = true;
      stream.wake?.();
    }
    const waiters = this.#waiters.splice(0);
    for (const waiter of waiters) waiter.reject(error);
  }
}

function safely(call: () => void): void {
  try {
    call();
  } catch (error) {
    console.error("configsvc-client: a listener failed:", error);
  }
}
