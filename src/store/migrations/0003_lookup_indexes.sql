DROP INDEX `escalations_status`;--> statement-breakpoint
CREATE INDEX `escalations_status` ON `escalations` (`status`,`sla_due_at`);--> statement-breakpoint
CREATE INDEX `contacts_email` ON `contacts` (`email`);--> statement-breakpoint
CREATE INDEX `contacts_phone` ON `contacts` (`phone`);--> statement-breakpoint
CREATE INDEX `messages_contact` ON `messages` (`contact_id`);--> statement-breakpoint
CREATE INDEX `tickets_first_response_due` ON `tickets` (`status`,`first_response_due_at`);--> statement-breakpoint
CREATE INDEX `tickets_resolution_due` ON `tickets` (`status`,`resolution_due_at`);