DROP INDEX `triage_decisions_out_of_hours`;--> statement-breakpoint
ALTER TABLE `triage_decisions` ADD `reply_kind` text;--> statement-breakpoint
UPDATE `triage_decisions` SET `reply_kind` = json_extract(`actions`, '$.reply.kind') WHERE json_extract(`actions`, '$.reply.kind') IS NOT NULL;--> statement-breakpoint
CREATE INDEX `triage_decisions_once_a_day` ON `triage_decisions` (`conversation_id`,`created_at`) WHERE "triage_decisions"."reply_kind" in ('out_of_hours', 'welcome');
