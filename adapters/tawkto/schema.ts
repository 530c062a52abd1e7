import { z } from 'zod'

// Tawk.to publishes no types: these follow the documented payloads (developer.tawk.to/webhooks,
// reproduced in shared/reference/channels.md §1.2) and accept any extra field.

const Visitor = z.looseObject({
  name: z.string().nullish(),
  email: z.string().nullish(),
  city: z.string().nullish(),
  country: z.string().nullish(),
})
const Property = z.looseObject({ id: z.string(), name: z.string().nullish() })

export const TawkChatStart = z.looseObject({
  event: z.literal('chat:start'),
  chatId: z.string().min(1),
  time: z.string(),
  message: z.looseObject({
    text: z.string().nullish(),
    type: z.string().nullish(),
    sender: z.looseObject({ type: z.string().nullish() }).nullish(),
  }),
  visitor: Visitor.nullish(),
  property: Property.nullish(),
})

export const TawkChatEnd = z.looseObject({
  event: z.literal('chat:end'),
  chatId: z.string().min(1),
  time: z.string(),
  visitor: Visitor.nullish(),
  property: Property.nullish(),
})

export const TawkTranscriptMessage = z.looseObject({
  sender: z
    .looseObject({ t: z.string().nullish(), n: z.string().nullish(), id: z.string().nullish() })
    .nullish(),
  type: z.string().nullish(),
  msg: z.string().nullish(),
  time: z.string().nullish(),
  attchs: z.array(z.unknown()).nullish(),
})

export const TawkTranscript = z.looseObject({
  event: z.literal('chat:transcript_created'),
  time: z.string(),
  property: Property.nullish(),
  chat: z.looseObject({
    id: z.string().min(1),
    visitor: Visitor.nullish(),
    messages: z.array(TawkTranscriptMessage).max(5000),
  }),
})

export const TawkTicket = z.looseObject({
  event: z.literal('ticket:create'),
  time: z.string(),
  property: Property.nullish(),
  requester: z.looseObject({ name: z.string().nullish(), email: z.string().nullish() }),
  ticket: z.looseObject({
    id: z.string().min(1),
    humanId: z.union([z.number(), z.string()]).nullish(),
    subject: z.string().nullish(),
    message: z.string().nullish(),
  }),
})

export const TawkEvent = z.discriminatedUnion('event', [
  TawkChatStart,
  TawkChatEnd,
  TawkTranscript,
  TawkTicket,
])
export type TawkEvent = z.infer<typeof TawkEvent>
export const TawkEnvelope = z.looseObject({ event: z.string() })
