-- Woo requests as cases: the case, its append-only history, suspensions, documents
-- (whole conversations), its search log (zoekslag), and legal holds. Dates of the law
-- (receipt, suspension days) are Dutch calendar days as TEXT 'YYYY-MM-DD'; times are UTC.

CREATE TABLE woo_cases (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    number TEXT NOT NULL,
    year INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    subject TEXT NOT NULL,
    requester_contact_id TEXT REFERENCES contacts(id),
    requester_name TEXT,
    requester_address TEXT,
    channel TEXT,
    received_at TIMESTAMP NOT NULL,
    received_on TEXT NOT NULL,
    message_id TEXT REFERENCES messages(id),
    conversation_id TEXT REFERENCES conversations(id),
    status TEXT NOT NULL,
    outcome TEXT,
    extension_days INTEGER,
    extension_decided_on TEXT,
    extension_reason TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, number),
    UNIQUE (tenant_id, year, ordinal)
);
CREATE INDEX woo_cases_list ON woo_cases (tenant_id, status, received_on);
CREATE INDEX woo_cases_conversation ON woo_cases (tenant_id, conversation_id);

-- What happened to a case, in order; rows are only ever inserted.
CREATE TABLE woo_case_events (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    case_id TEXT NOT NULL REFERENCES woo_cases(id),
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail_json TEXT NOT NULL
);
CREATE INDEX woo_case_events_case ON woo_case_events (tenant_id, case_id, at);

CREATE TABLE woo_suspensions (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    case_id TEXT NOT NULL REFERENCES woo_cases(id),
    kind TEXT NOT NULL,
    asked_on TEXT NOT NULL,
    ended_on TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX woo_suspensions_case ON woo_suspensions (tenant_id, case_id);

-- A document of a case is a whole conversation, numbered 1, 2, 3, … in the case.
CREATE TABLE woo_documents (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    case_id TEXT NOT NULL REFERENCES woo_cases(id),
    number INTEGER NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    document_date TEXT NOT NULL,
    older_than_five_years BOOLEAN NOT NULL,
    duplicate_of INTEGER,
    judgement TEXT,
    grounds_json TEXT NOT NULL,
    motivation TEXT NOT NULL,
    link TEXT,
    art_5_3_reasons TEXT,
    judged_by TEXT,
    judged_at TIMESTAMP,
    added_by TEXT NOT NULL,
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, number),
    UNIQUE (case_id, conversation_id)
);
CREATE INDEX woo_documents_conversation ON woo_documents (tenant_id, conversation_id);

-- The zoekslag: every search run from the case (source 'loket', exact counts) and the
-- officer's entries for systems outside loket (source 'manual').
CREATE TABLE woo_search_log (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    case_id TEXT NOT NULL REFERENCES woo_cases(id),
    source TEXT NOT NULL,
    system TEXT NOT NULL,
    query TEXT NOT NULL,
    filters_json TEXT NOT NULL,
    hit_count BIGINT,
    conversation_count BIGINT,
    result TEXT,
    searched_on TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX woo_search_log_case ON woo_search_log (tenant_id, case_id, at);

-- Legal holds: nothing held may be destroyed. A case holds each of its conversations
-- while it is open (case_id set); an admin holds a conversation, contact or saved query.
CREATE TABLE legal_holds (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    case_id TEXT REFERENCES woo_cases(id),
    reason TEXT NOT NULL,
    held_by TEXT NOT NULL,
    held_at TIMESTAMP NOT NULL,
    released_by TEXT,
    released_at TIMESTAMP
);
CREATE INDEX legal_holds_subject ON legal_holds (tenant_id, subject_kind, subject_id);
CREATE INDEX legal_holds_case ON legal_holds (case_id);

-- The database itself refuses to delete a held conversation or message, so no code path
-- (present or future) can destroy what a hold protects.
CREATE FUNCTION loket_is_held(tenant TEXT, conversation TEXT, contact TEXT) RETURNS boolean AS $$
    SELECT EXISTS (SELECT 1 FROM legal_holds h WHERE h.tenant_id = tenant
        AND h.released_at IS NULL
        AND ((h.subject_kind = 'conversation' AND h.subject_id = conversation)
          OR (h.subject_kind = 'contact' AND h.subject_id = contact)))
$$ LANGUAGE sql STABLE;
CREATE FUNCTION loket_refuse_held_conversation() RETURNS trigger AS $$
BEGIN
    IF loket_is_held(OLD.tenant_id, OLD.id, OLD.contact_id) THEN
        RAISE EXCEPTION 'legal hold';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION loket_refuse_held_message() RETURNS trigger AS $$
BEGIN
    IF loket_is_held(OLD.tenant_id, OLD.conversation_id, OLD.contact_id) THEN
        RAISE EXCEPTION 'legal hold';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER conversations_legal_hold BEFORE DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION loket_refuse_held_conversation();
CREATE TRIGGER messages_legal_hold BEFORE DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION loket_refuse_held_message();
