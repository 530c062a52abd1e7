import { z } from 'zod'

// The WhatsApp Business Cloud API webhook (Meta publishes no schema file): shapes from Meta's
// Node SDK and the pywa fixtures in shared/fixtures/whatsapp (see shared/reference/channels.md
// §3b). Objects are loose: Meta adds fields (user_id, parent_user_id, username) over time.

const Media = z.looseObject({
  id: z.string().nullish(),
  mime_type: z.string().nullish(),
  sha256: z.string().nullish(),
  caption: z.string().nullish(),
  filename: z.string().nullish(),
  url: z.string().nullish(),
  voice: z.boolean().nullish(),
  animated: z.boolean().nullish(),
})

export const CloudMessage = z.looseObject({
  from: z.string().min(1).max(64),
  id: z.string().min(1).max(512),
  timestamp: z.string().regex(/^\d{1,12}$/),
  type: z.string().max(64),
  context: z
    .looseObject({
      id: z.string().max(512).nullish(),
      from: z.string().nullish(),
      forwarded: z.boolean().nullish(),
      frequently_forwarded: z.boolean().nullish(),
    })
    .nullish(),
  text: z.looseObject({ body: z.string().max(65_536) }).nullish(),
  image: Media.nullish(),
  video: Media.nullish(),
  audio: Media.nullish(),
  document: Media.nullish(),
  sticker: Media.nullish(),
  location: z
    .looseObject({
      latitude: z.number(),
      longitude: z.number(),
      name: z.string().nullish(),
      address: z.string().nullish(),
      url: z.string().nullish(),
    })
    .nullish(),
  contacts: z
    .array(
      z.looseObject({
        name: z.looseObject({ formatted_name: z.string().nullish() }).nullish(),
        phones: z.array(z.looseObject({ phone: z.string().nullish() })).nullish(),
      }),
    )
    .nullish(),
  interactive: z
    .looseObject({
      type: z.string().nullish(),
      button_reply: z
        .looseObject({ id: z.string().nullish(), title: z.string().nullish() })
        .nullish(),
      list_reply: z
        .looseObject({
          id: z.string().nullish(),
          title: z.string().nullish(),
          description: z.string().nullish(),
        })
        .nullish(),
    })
    .nullish(),
  button: z.looseObject({ payload: z.string().nullish(), text: z.string().nullish() }).nullish(),
  reaction: z
    .looseObject({ message_id: z.string().nullish(), emoji: z.string().nullish() })
    .nullish(),
  order: z
    .looseObject({
      text: z.string().nullish(),
      product_items: z
        .array(
          z.looseObject({
            product_retailer_id: z.string().nullish(),
            quantity: z.number().nullish(),
            item_price: z.number().nullish(),
            currency: z.string().nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
  system: z.looseObject({ body: z.string().nullish(), type: z.string().nullish() }).nullish(),
  referral: z
    .looseObject({ headline: z.string().nullish(), source_url: z.string().nullish() })
    .nullish(),
  errors: z
    .array(z.looseObject({ code: z.number().nullish(), title: z.string().nullish() }))
    .nullish(),
})
export type CloudMessage = z.infer<typeof CloudMessage>

export const CloudStatus = z.looseObject({
  id: z.string().min(1).max(512),
  status: z.string().max(32),
  timestamp: z.string().regex(/^\d{1,12}$/),
  recipient_id: z.string().nullish(),
  biz_opaque_callback_data: z.string().max(512).nullish(),
  conversation: z.looseObject({ expiration_timestamp: z.string().nullish() }).nullish(),
  errors: z
    .array(
      z.looseObject({
        code: z.number().nullish(),
        title: z.string().nullish(),
        message: z.string().nullish(),
      }),
    )
    .nullish(),
})
export type CloudStatus = z.infer<typeof CloudStatus>

export const CloudContact = z.looseObject({
  wa_id: z.string().nullish(),
  user_id: z.string().nullish(),
  profile: z.looseObject({ name: z.string().nullish() }).nullish(),
})

/** Messages the business sent from the WhatsApp Business app (coexistence echoes). */
export const CloudEcho = z.looseObject({
  from: z.string(),
  to: z.string(),
  id: z.string().min(1).max(512),
  timestamp: z.string().regex(/^\d{1,12}$/),
  type: z.string(),
  text: z.looseObject({ body: z.string() }).nullish(),
})

export const CloudValue = z.looseObject({
  messaging_product: z.string().nullish(),
  metadata: z.looseObject({
    phone_number_id: z.string().min(1),
    display_phone_number: z.string().nullish(),
  }),
  contacts: z.array(CloudContact).max(1000).nullish(),
  // Each message and status is checked on its own, so one odd item never blocks the batch.
  messages: z.array(z.unknown()).max(1000).nullish(),
  statuses: z.array(z.unknown()).max(1000).nullish(),
  message_echoes: z.array(z.unknown()).max(1000).nullish(),
})

export const CloudEnvelope = z.looseObject({
  object: z.literal('whatsapp_business_account'),
  entry: z
    .array(
      z.looseObject({
        id: z.string().nullish(),
        changes: z.array(z.looseObject({ field: z.string(), value: z.unknown() })).max(1000),
      }),
    )
    .max(1000),
})
