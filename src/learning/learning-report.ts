import type { Sql } from '../store/sql.js'

// What the console's learning page shows: how often people corrected the hub, per intent and
// week (its live accuracy), and the rules whose decisions they keep correcting.

export type WeekCounts = {
  /** Start of the week (unix ms), in the business time zone. */
  start: number
  /** Per decided intent: decisions, and how many of them a person corrected. */
  intents: Map<string, { decided: number; corrected: number }>
}

/** Decisions and corrected decisions per intent in each `[start, end)` week. */
export async function weeklyCorrections(
  db: Sql,
  weeks: readonly { start: number; end: number }[],
): Promise<WeekCounts[]> {
  const out: WeekCounts[] = []
  for (const { start, end } of weeks) {
    const rows = await db.all<{ intent: string; decided: number; corrected: number }>(
      `select d.intent as intent, count(*) as decided, count(c.decision_id) as corrected
         from triage_decisions d
         left join (select distinct decision_id from corrections) c on c.decision_id = d.id
        where d.created_at >= ? and d.created_at < ?
        group by d.intent`,
      [start, end],
    )
    out.push({
      start,
      intents: new Map(
        rows.map((r) => [r.intent, { decided: Number(r.decided), corrected: Number(r.corrected) }]),
      ),
    })
  }
  return out
}

export type CorrectedRule = {
  group: string
  target: string
  term: string
  /** Decisions since the window's start where the rule fired (not set aside by a negation). */
  fired: number
  /** Of those, how many a person corrected against what the rule said. */
  corrected: number
}

/**
 * Rules that fired on decisions people then corrected against them: an intent rule when the
 * intent was corrected, a signal rule when the signal was taken off (or the intent changed).
 * (Greetings, closings and requests for a person are not corrected.) Most corrected first.
 */
export async function correctedRules(db: Sql, since: number, limit = 20): Promise<CorrectedRule[]> {
  if (db.dialect === 'postgres') return correctedRulesPg(db, since, limit)
  const rows = await db.all<CorrectedRule>(
    `with hits as (
         select distinct d.id as decision,
                json_extract(h.value, '$.group') as grp,
                json_extract(h.value, '$.target') as target,
                json_extract(h.value, '$.term') as term
           from triage_decisions d, json_each(d.explanation, '$.hits') h
          where d.created_at >= ? and json_extract(h.value, '$.vetoed') is null
       ),
       against as (
         select distinct h.decision, h.grp, h.target, h.term
           from hits h join corrections c on c.decision_id = h.decision
          where case
                  when h.grp = 'intent' then json_extract(c.corrected, '$.intent') is not null
                  when h.grp = 'signal' then
                    json_extract(c.corrected, '$.intent') is not null
                    or (json_extract(c.corrected, '$.signals') is not null
                        and not exists (select 1 from json_each(c.corrected, '$.signals') s
                                         where s.value = h.target))
                  else 0
                end
       )
       select h.grp as "group", h.target as target, h.term as term,
              count(*) as fired, count(a.decision) as corrected
         from hits h
         left join against a
           on a.decision = h.decision and a.grp = h.grp and a.target = h.target and a.term = h.term
        group by h.grp, h.target, h.term
       having count(a.decision) > 0
        order by corrected desc, fired desc
        limit ?`,
    [since, limit],
  )
  return rows.map((r) => ({ ...r, fired: Number(r.fired), corrected: Number(r.corrected) }))
}

/** The same on PostgreSQL, whose JSON functions are its own. */
async function correctedRulesPg(db: Sql, since: number, limit: number): Promise<CorrectedRule[]> {
  const rows = await db.all<CorrectedRule>(
    `with hits as (
       select distinct d.id as decision, h.value ->> 'group' as grp, h.value ->> 'target' as target,
              h.value ->> 'term' as term
         from triage_decisions d,
              jsonb_array_elements(coalesce(d.explanation::jsonb -> 'hits', '[]'::jsonb)) h
        where d.created_at >= ? and h.value -> 'vetoed' is null
     ),
     against as (
       select distinct h.decision, h.grp, h.target, h.term
         from hits h join corrections c on c.decision_id = h.decision
        where case
                when h.grp = 'intent' then jsonb_exists(c.corrected::jsonb, 'intent')
                when h.grp = 'signal' then
                  jsonb_exists(c.corrected::jsonb, 'intent')
                  or (jsonb_exists(c.corrected::jsonb, 'signals')
                      and not jsonb_exists(c.corrected::jsonb -> 'signals', h.target))
                else false
              end
     )
     select h.grp as "group", h.target as target, h.term as term,
            count(*) as fired, count(a.decision) as corrected
       from hits h
       left join against a
         on a.decision = h.decision and a.grp = h.grp and a.target = h.target and a.term = h.term
      group by h.grp, h.target, h.term
     having count(a.decision) > 0
      order by corrected desc, fired desc
      limit ?`,
    [since, limit],
  )
  return rows.map((r) => ({ ...r, fired: Number(r.fired), corrected: Number(r.corrected) }))
}
