CREATE TABLE `sla_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`subject` text NOT NULL,
	`kind` text NOT NULL,
	`due_at` integer NOT NULL,
	`fired_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sla_events_once` ON `sla_events` (`subject`,`kind`,`due_at`);--> statement-breakpoint
ALTER TABLE `tickets` ADD `first_response_by` text;--> statement-breakpoint
ALTER TABLE `tickets` ADD `survey_sent_at` integer;--> statement-breakpoint
CREATE VIEW `escalamientos_activos` AS select e.id as id, e.ticket_id as ticket_id, t.number as ticket, t.queue as queue,
    t.priority as priority, e.from_level as from_level, e.to_level as level, e.reason as reason,
    e.status as status, e.escalated_by as escalated_by, e.received_by as received_by,
    e.sla_due_at as sla_due_at, e.created_at as created_at,
    case
      when e.sla_due_at <= cast(strftime('%s','now') as integer) * 1000 then 'vencido'
      when e.sla_due_at - cast(strftime('%s','now') as integer) * 1000 < 3600000 then 'critico'
      when e.sla_due_at - cast(strftime('%s','now') as integer) * 1000 < 14400000 then 'advertencia'
      else 'normal'
    end as urgencia
  from escalations e join tickets t on t.id = e.ticket_id
  where e.status in ('pendiente', 'en_proceso');