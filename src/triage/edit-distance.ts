/**
 * True when `a` and `b` differ by at most one edit: a substitution, an insertion, a deletion
 * or a swap of two neighbouring letters (optimal string alignment distance ≤ 1). Compares
 * character codes in place: it runs for every typo-tolerant word a message is held against.
 */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true
  const la = a.length
  const lb = b.length
  if (la - lb > 1 || lb - la > 1) return false
  let i = 0
  while (i < la && i < lb && a.charCodeAt(i) === b.charCodeAt(i)) i++
  if (la === lb) {
    if (sameFrom(a, i + 1, b, i + 1)) return true // substitution
    return (
      i + 1 < la &&
      a.charCodeAt(i) === b.charCodeAt(i + 1) &&
      a.charCodeAt(i + 1) === b.charCodeAt(i) &&
      sameFrom(a, i + 2, b, i + 2)
    ) // swap
  }
  return la > lb ? sameFrom(a, i + 1, b, i) : sameFrom(a, i, b, i + 1)
}

/** Whether `a` from `ai` on and `b` from `bi` on are the same characters. */
function sameFrom(a: string, ai: number, b: string, bi: number): boolean {
  if (a.length - ai !== b.length - bi) return false
  for (; ai < a.length; ai++, bi++) if (a.charCodeAt(ai) !== b.charCodeAt(bi)) return false
  return true
}

/** Every string obtained by deleting one character (the symmetric-delete index key set). */
export function deletions(word: string): string[] {
  const out: string[] = []
  for (let i = 0; i < word.length; i++) out.push(word.slice(0, i) + word.slice(i + 1))
  return out
}
