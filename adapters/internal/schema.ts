import { z } from 'zod'

/**
 * What the business's own app posts to `POST /webhooks/internal` (documented in the README):
 * a message of a registered customer (`cliente`) or an operator (`operador`).
 */
export const InternalMessage = z.looseObject({
  /** The app's id for the message; the delivery's webhook-id when absent. */
  message_id: z.string().min(1).max(256).optional(),
  /** The app's id for the chat thread; one thread per user when absent. */
  conversation_id: z.string().min(1).max(256).optional(),
  user: z.looseObject({
    id: z.string().min(1).max(256),
    role: z.enum(['cliente', 'operador']),
    name: z.string().max(512).nullish(),
    email: z.email().max(320).nullish(),
    phone: z.string().max(32).nullish(),
  }),
  /** The operator who looks after this customer, if any. */
  assigned_operator_id: z.string().min(1).max(256).nullish(),
  text: z.string().max(65_536),
  sent_at: z.iso.datetime({ offset: true }).optional(),
})
export type InternalMessage = z.infer<typeof InternalMessage>
