-- A leaner write path (issue 2, bulk import). Every B-tree a message touches costs the
-- single writer time and WAL pages, so each one here has to earn its place.

-- 1. The outbox sequence becomes the rowid (`INTEGER PRIMARY KEY`): one B-tree instead
--    of a table plus an index on `seq`.
CREATE TABLE outbox_by_seq (
    seq INTEGER PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    message_id TEXT,
    conversation_id TEXT,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO outbox_by_seq (seq, tenant_id, kind, message_id, conversation_id, created_at)
    SELECT seq, tenant_id, kind, message_id, conversation_id, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_by_seq RENAME TO outbox;

-- 2. An audit event is identified by its place in its tenant's chain, (tenant_id, seq),
--    which stays unique. Its UUIDv7 id is kept but no longer indexed: nothing looks an
--    audit event up by id, and the index cost every write.
CREATE TABLE audit_events_chain (
    id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    seq BIGINT NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (tenant_id, seq)
);
INSERT INTO audit_events_chain
    (id, tenant_id, seq, at, actor, action, subject_kind, subject_id, detail, prev_hash, hash)
    SELECT id, tenant_id, seq, at, actor, action, subject_kind, subject_id, detail,
           prev_hash, hash
    FROM audit_events ORDER BY tenant_id, seq;
DROP TABLE audit_events;
ALTER TABLE audit_events_chain RENAME TO audit_events;
CREATE INDEX audit_events_subject ON audit_events (tenant_id, subject_kind, subject_id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;

-- 3. Only email has a Message-ID: chat and SMS messages no longer add a NULL entry to
--    the threading index (`rfc_message_id = ?` implies NOT NULL, so lookups still use it).
DROP INDEX messages_rfc_id;
CREATE INDEX messages_rfc_id ON messages (tenant_id, rfc_message_id)
    WHERE rfc_message_id IS NOT NULL;
