-- Conversations mirrored into a staff inbox record their copy under `mirror:<channel>` (the
-- core's relay check reads that key); those mirrored before kept only Chatwoot's own record.
UPDATE `conversations`
SET `meta` = json_set(`meta`, '$."mirror:chatwoot"',
  json_extract(`meta`, '$.chatwootMirror.accountId') || ':' || json_extract(`meta`, '$.chatwootMirror.conversationId'))
WHERE json_extract(`meta`, '$.chatwootMirror.conversationId') IS NOT NULL;
