-- Accounts (issue 6): people with passwords, their sessions, login lock-out, and the
-- inbox's conversation labels and read marks. Ids are UUIDv7 text; times are UTC.

-- A person of one tenant. Passwords are argon2id PHC strings; a user is disabled, never
-- deleted, so audit events that name `user:<id>` keep resolving.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    disabled_at TIMESTAMP,
    UNIQUE (tenant_id, username)
);

-- Login sessions. Only the SHA-256 of the cookie value is stored.
CREATE TABLE sessions (
    id_sha256 TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);

-- Failed logins per (tenant, username) — kept for unknown usernames too, so the lock-out
-- behaves the same whether or not the account exists (no user enumeration).
CREATE TABLE login_failures (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    username TEXT NOT NULL,
    failures INTEGER NOT NULL,
    first_failure_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    PRIMARY KEY (tenant_id, username)
);

-- Labels on conversations (a derived summary like `conversations.status`; every change
-- is an audit event and an outbox row).
CREATE TABLE conversation_labels (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    label TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id, label)
);
CREATE INDEX conversation_labels_label ON conversation_labels (tenant_id, label, conversation_id);

-- When a user last opened a conversation (unread marks in the list).
CREATE TABLE conversation_reads (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    read_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, user_id, conversation_id)
);

-- The inbox list filtered by status / channel / assignee, newest activity first.
CREATE INDEX conversations_status_list ON conversations (tenant_id, status, last_message_at, id);
CREATE INDEX conversations_channel_list ON conversations (tenant_id, channel, last_message_at, id);
CREATE INDEX conversations_assignee_list ON conversations (tenant_id, assignee, last_message_at, id);

-- Users are disabled, never deleted; their id and creation stay as they were.
CREATE TRIGGER users_no_delete BEFORE DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION loket_refuse_change();
CREATE FUNCTION loket_user_identity_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.tenant_id <> OLD.tenant_id OR NEW.username <> OLD.username
       OR NEW.created_at <> OLD.created_at THEN
        RAISE EXCEPTION 'a user''s identity does not change';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER users_fixed_identity BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION loket_user_identity_fixed();
