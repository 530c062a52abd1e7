ALTER TABLE `outbox` ADD `conversation_id` integer;--> statement-breakpoint
ALTER TABLE `outbox` ADD `recipient` text;--> statement-breakpoint
ALTER TABLE `outbox` ADD `automatic` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `outbox_conversation` ON `outbox` (`conversation_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `outbox_recipient` ON `outbox` (`recipient`,`created_at`);