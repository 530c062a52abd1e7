DROP INDEX `triage_decisions_conversation`;--> statement-breakpoint
CREATE INDEX `triage_decisions_conversation_priority` ON `triage_decisions` (`conversation_id`,`priority`,`created_at`);