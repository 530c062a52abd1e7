-- The triage queue becomes the messages table read past a cursor (src/store/triage-queue.ts).
-- Every message stored before this version got a job row, so the cursor starts past all of
-- them: the ones still pending are triaged from their job rows, as retries are.
INSERT INTO `channel_state` (`key`, `value`, `updated_at`)
SELECT 'triage:cursor', CAST(coalesce(max(`id`), 0) AS TEXT), CAST(unixepoch('subsec') * 1000 AS INTEGER) FROM `messages`
WHERE true
ON CONFLICT (`key`) DO NOTHING;
