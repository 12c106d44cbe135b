-- The archive core. Ids are UUIDv7 text; times are UTC (microseconds).
CREATE TABLE tenants (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    name TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, channel, address)
);

-- status, assignee and last_message_at are a derived summary for the inbox; the record
-- of every change is the audit chain and the outbox.
CREATE TABLE conversations (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    contact_id TEXT NOT NULL REFERENCES contacts(id),
    channel TEXT NOT NULL,
    token TEXT NOT NULL,
    subject TEXT,
    status TEXT NOT NULL,
    assignee TEXT,
    created_at TIMESTAMP NOT NULL,
    last_message_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, token)
);
CREATE INDEX conversations_contact ON conversations (tenant_id, contact_id, last_message_at);
CREATE INDEX conversations_list ON conversations (tenant_id, last_message_at, id);

CREATE TABLE blobs (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
);

CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    contact_id TEXT NOT NULL REFERENCES contacts(id),
    direction TEXT NOT NULL,
    channel TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    provider_message_id TEXT,
    rfc_message_id TEXT,
    from_address TEXT NOT NULL,
    from_name TEXT,
    to_json TEXT NOT NULL,
    subject TEXT,
    body_text TEXT NOT NULL,
    body_html TEXT,
    sent_at TIMESTAMP,
    received_at TIMESTAMP NOT NULL,
    raw_sha256 TEXT NOT NULL,
    raw_size BIGINT NOT NULL,
    raw_content_type TEXT NOT NULL,
    flags_json TEXT NOT NULL,
    parse_warnings_json TEXT NOT NULL,
    author TEXT,
    UNIQUE (tenant_id, channel, idempotency_key, raw_sha256)
);
CREATE INDEX messages_conversation ON messages (tenant_id, conversation_id, received_at);
CREATE INDEX messages_rfc_id ON messages (tenant_id, rfc_message_id);
CREATE INDEX messages_tenant_id ON messages (tenant_id, id);

CREATE TABLE attachments (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    message_id TEXT NOT NULL REFERENCES messages(id),
    ordinal INTEGER NOT NULL,
    filename TEXT,
    content_type TEXT NOT NULL,
    content_id TEXT,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL
);
CREATE INDEX attachments_message ON attachments (tenant_id, message_id, ordinal);

CREATE TABLE message_events (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    message_id TEXT NOT NULL REFERENCES messages(id),
    status TEXT NOT NULL,
    detail TEXT,
    original_sha256 TEXT,
    at TIMESTAMP NOT NULL
);
CREATE INDEX message_events_message ON message_events (tenant_id, message_id, at);

CREATE TABLE outbox (
    seq BIGINT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    message_id TEXT,
    conversation_id TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE consumer_cursors (
    name TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE audit_events (
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
CREATE INDEX audit_events_subject ON audit_events (tenant_id, subject_kind, subject_id);

-- The chain head, MAC'd with a key outside the database, so deleting the tail of the
-- chain (and recomputing this row) is detected by `loket verify`.
CREATE TABLE audit_checkpoints (
    tenant_id TEXT PRIMARY KEY NOT NULL REFERENCES tenants(id),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    mac TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

CREATE TABLE channel_settings (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    channel TEXT NOT NULL,
    key TEXT NOT NULL,
    value_json TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, channel, key)
);

-- Append-only: the archive refuses in-place changes (DESIGN §5.3).
CREATE FUNCTION loket_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$;
CREATE TRIGGER messages_append_only BEFORE UPDATE OR DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION loket_refuse_change();
CREATE TRIGGER message_events_append_only BEFORE UPDATE ON message_events
    FOR EACH ROW EXECUTE FUNCTION loket_refuse_change();
CREATE TRIGGER attachments_append_only BEFORE UPDATE ON attachments
    FOR EACH ROW EXECUTE FUNCTION loket_refuse_change();
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION loket_refuse_change();
CREATE TRIGGER blobs_append_only BEFORE UPDATE ON blobs
    FOR EACH ROW EXECUTE FUNCTION loket_refuse_change();
