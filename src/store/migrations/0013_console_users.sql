CREATE TABLE `console_users` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`email` text NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`password_hash` text,
	`link_hash` text,
	`link_expires_at` integer,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `console_users_email` ON `console_users` (`email`);--> statement-breakpoint
CREATE INDEX `console_users_link` ON `console_users` (`link_hash`);--> statement-breakpoint
ALTER TABLE `console_sessions` ADD `user_id` integer REFERENCES console_users(id);