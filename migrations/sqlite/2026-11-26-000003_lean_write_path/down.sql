DROP INDEX messages_rfc_id;
CREATE INDEX messages_rfc_id ON messages (tenant_id, rfc_message_id);

CREATE TABLE audit_events_by_id (
    id TEXT PRIMARY KEY NOT NULL,
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
INSERT INTO audit_events_by_id
    (id, tenant_id, seq, at, actor, action, subject_kind, subject_id, detail, prev_hash, hash)
    SELECT id, tenant_id, seq, at, actor, action, subject_kind, subject_id, detail,
           prev_hash, hash
    FROM audit_events ORDER BY tenant_id, seq;
DROP TABLE audit_events;
ALTER TABLE audit_events_by_id RENAME TO audit_events;
CREATE INDEX audit_events_subject ON audit_events (tenant_id, subject_kind, subject_id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;

CREATE TABLE outbox_seq_index (
    seq BIGINT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    message_id TEXT,
    conversation_id TEXT,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO outbox_seq_index (seq, tenant_id, kind, message_id, conversation_id, created_at)
    SELECT seq, tenant_id, kind, message_id, conversation_id, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_seq_index RENAME TO outbox;
