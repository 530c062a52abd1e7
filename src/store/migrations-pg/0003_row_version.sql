-- The version of a channel_state row as it stands now, not as the calling statement's snapshot
-- saw it: each statement of a volatile function takes a snapshot of its own (READ COMMITTED).
-- The triage claim (src/store/triage-queue.ts) reads a part's cursor, then takes the part's
-- lock in the same statement; comparing the two versions tells whether a slice committed the
-- part in between, when what the statement read of it is already out of date.
CREATE FUNCTION centralita_row_version(row_key text) RETURNS xid
  LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN (SELECT xmin FROM channel_state WHERE key = row_key);
END
$$;
