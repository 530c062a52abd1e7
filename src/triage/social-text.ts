/**
 * Social-media text, read for what its author says. Links and retweet prefixes are not the
 * customer's words and go; handles and hashtags are spelled out as the words they run
 * together ("@Profeco_Mx" → "Profeco Mx", "#PésimoServicio" → "Pésimo Servicio"), so a
 * tagged authority or a hashtag of complaint is read like any other word. The handles a
 * message opens with (whom it is addressed to) are kept apart, as a line of their own, so
 * they neither run into the first sentence nor count as something the customer said. A
 * handle of a news outlet anywhere in the message is the author going public.
 */
export type SocialText = {
  /** The words of the handles the message opens with, or '' (see above). */
  addressees: string
  /** The rest of the text, links and retweet prefixes out, handles and hashtags spelled out. */
  text: string
  /** Handles in the message that name a news outlet (`settings.yaml` → `news_outlets`). */
  newsOutlets: string[]
}

const URLS = /\bhttps?:\/\/\S{1,500}|\bwww\.\S{1,500}|\bt\.co\/\S{1,100}/gi
// "RT @someone:" quotes someone else's tweet.
const RETWEET_PREFIX = /^\s*RT\s+@\w{1,50}:\s*/i
// Handles that open the message: whom it is written to.
const LEADING_HANDLES = /^(?:\s*[.]?@\w{1,50}[,:]?)+/
// A handle elsewhere: after a space or an opening mark, never inside an email address.
const HANDLE = /(^|[\s(¡¿"'])@(\w{1,50})/g
const HASHTAG = /(^|\s)#(\w{1,100})/g
// "PésimoServicio" → "Pésimo Servicio": a capital after a lower-case letter starts a word.
const CAMEL = /(\p{Ll})(\p{Lu})/gu

/** Quick test: text without @, # or a link has nothing for this to do. */
const SOCIAL = /[@#]|https?:|www\.|t\.co\//i

/** A handle on the list, or containing a `*fragment` of it. */
function isOutlet(handle: string, outlets: readonly string[]): boolean {
  for (const entry of outlets) {
    if (
      entry.startsWith('*')
        ? handle.includes(entry.slice(1).toLowerCase())
        : handle === entry.toLowerCase()
    )
      return true
  }
  return false
}

const spell = (tag: string) => tag.replace(CAMEL, '$1 $2').replace(/_/g, ' ')

export function readSocialText(text: string, outlets: readonly string[]): SocialText {
  if (!SOCIAL.test(text)) return { addressees: '', text, newsOutlets: [] }
  const newsOutlets: string[] = []
  const note = (handle: string) => {
    if (isOutlet(handle.toLowerCase(), outlets)) newsOutlets.push(handle)
    return spell(handle)
  }
  let rest = text.replace(URLS, ' ').replace(RETWEET_PREFIX, '')
  const leading = LEADING_HANDLES.exec(rest)?.[0] ?? ''
  const addressees = [...leading.matchAll(/@(\w{1,50})/g)].map((m) => note(m[1]!)).join(' ')
  rest = rest
    .slice(leading.length)
    .replace(HANDLE, (_all, before: string, handle: string) => `${before}${note(handle)}`)
    .replace(HASHTAG, (_all, before: string, tag: string) => `${before}${spell(tag)}`)
  return { addressees, text: rest.trim(), newsOutlets }
}
