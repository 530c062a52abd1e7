import { IANAZone } from 'luxon'

const BUCKET_MS = 15 * 60_000

/**
 * An IANA time zone that remembers its UTC offsets. Luxon asks the platform (Intl) for the
 * offset of every date it builds, and business-hours arithmetic builds several per message.
 * Offsets are kept per quarter hour: every change of offset since 1972 (DST or otherwise)
 * falls on a quarter hour in UTC, since local change times and offsets are both whole quarter
 * hours (Liberia's -0:44:30, gone in 1972, was the last offset that was not).
 */
class RememberingZone extends IANAZone {
  readonly #offsets = new Map<number, number>()

  override offset(ts: number): number {
    const bucket = Math.floor(ts / BUCKET_MS)
    let offset = this.#offsets.get(bucket)
    if (offset === undefined) {
      offset = super.offset(ts)
      if (this.#offsets.size >= 20_000) this.#offsets.clear()
      this.#offsets.set(bucket, offset)
    }
    return offset
  }
}

const zones = new Map<string, IANAZone>()

/** The zone named `name` (an IANA name such as America/Santiago), shared and remembering. */
export function zoneNamed(name: string): IANAZone {
  let zone = zones.get(name)
  if (!zone) {
    zone = new RememberingZone(name)
    zones.set(name, zone)
  }
  return zone
}
