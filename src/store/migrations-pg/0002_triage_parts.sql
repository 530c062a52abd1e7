-- The triage queue in parts (src/store/triage-queue.ts): on PostgreSQL a message belongs to
-- part `conversation_id % 8`, each part with a cursor of its own, so that slices of different
-- parts triage side by side. This index reads a part past its cursor.
CREATE INDEX "messages_triage_part" ON "messages" (("conversation_id" % 8), "id");
