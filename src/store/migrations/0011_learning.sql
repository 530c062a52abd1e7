CREATE TABLE `classifier_models` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`status` text NOT NULL,
	`reason` text NOT NULL,
	`metrics` text NOT NULL,
	`corpus_hash` text NOT NULL,
	`model_version` text NOT NULL,
	`through_correction` integer NOT NULL,
	`corrections` integer NOT NULL,
	`by` text NOT NULL,
	`model` blob,
	`created_at` integer NOT NULL,
	`activated_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `classifier_models_active` ON `classifier_models` (`status`) WHERE "classifier_models"."status" = 'active';--> statement-breakpoint
CREATE TABLE `corrections` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` integer NOT NULL,
	`decision_id` integer NOT NULL,
	`source` text NOT NULL,
	`actor` text NOT NULL,
	`text` text NOT NULL,
	`language` text NOT NULL,
	`decided` text NOT NULL,
	`corrected` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`decision_id`) REFERENCES `triage_decisions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `corrections_decision` ON `corrections` (`decision_id`);--> statement-breakpoint
CREATE INDEX `corrections_created` ON `corrections` (`created_at`);