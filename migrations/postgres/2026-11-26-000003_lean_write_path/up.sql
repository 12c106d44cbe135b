-- Only email has a Message-ID: chat and SMS messages no longer add a NULL entry to the
-- threading index. (The SQLite side of this migration also reshapes the outbox and the
-- audit table; on PostgreSQL a heap table with a primary-key index is already that shape.)
DROP INDEX messages_rfc_id;
CREATE INDEX messages_rfc_id ON messages (tenant_id, rfc_message_id)
    WHERE rfc_message_id IS NOT NULL;
