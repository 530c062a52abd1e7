/**
 * Runs async work one at a time per key, in the order asked, while different keys run side by
 * side. For read-then-write calls to an upstream that has no atomic operation for them (find
 * or create a contact, add to a label list that is replaced whole). A failed turn does not stop
 * the next one. Keys are forgotten once their last turn ends.
 */
export function turnsByKey() {
  const last = new Map<string, Promise<unknown>>()
  return {
    run<T>(key: string, work: () => Promise<T>): Promise<T> {
      const turn = (last.get(key) ?? Promise.resolve()).then(
        () => work(),
        () => work(),
      )
      last.set(key, turn)
      const forget = () => {
        if (last.get(key) === turn) last.delete(key)
      }
      turn.then(forget, forget)
      return turn
    },
    /** Keys with a turn running or waiting (for tests). */
    get size() {
      return last.size
    },
  }
}
