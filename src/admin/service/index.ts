import { conversationService } from './conversations.js'
import { escalationService } from './escalations.js'
import type { AdminApiDeps } from './kit.js'
import { learningService } from './learning.js'
import { outboxService } from './outbox.js'
import { queueService } from './queues.js'
import { ticketService } from './tickets.js'

export type { AdminApiDeps, Outcome, ServiceInput } from './kit.js'

/**
 * The admin operations behind both the JSON API and the console: tickets, escalations with
 * their urgency, queues with their load, conversations with their decisions, the outbox,
 * channels, learning. Each validates its input and returns an outcome; none throws for what a
 * caller can get wrong.
 */
export function adminService(deps: AdminApiDeps) {
  return {
    ...ticketService(deps),
    ...escalationService(deps),
    ...queueService(deps),
    ...conversationService(deps),
    ...outboxService(deps),
    ...learningService(deps),
  }
}

export type AdminService = ReturnType<typeof adminService>
