-- The inbox shows people, not hashes, in the tenant's own time.
-- 1. Every contact gets a short number per tenant ("Inwoner 1042 (chat)" for a chat
--    contact without a name), given at insert by a trigger so no ingest path can forget
--    it, and existing contacts are numbered in the order they first wrote. A row-level
--    BEFORE trigger sees the rows inserted earlier by the same multi-row INSERT.
-- 2. A name a clerk gave the contact, shown before any name the channel supplied.
-- 3. The tenant's time zone (IANA name) in which the inbox shows every time.
ALTER TABLE contacts ADD COLUMN number BIGINT;
ALTER TABLE contacts ADD COLUMN clerk_name TEXT;
UPDATE contacts SET number = numbered.n
    FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY created_at, id) AS n
          FROM contacts) AS numbered
    WHERE contacts.id = numbered.id;
CREATE INDEX contacts_number ON contacts (tenant_id, number);
CREATE FUNCTION loket_number_contact() RETURNS trigger AS $$
BEGIN
    IF NEW.number IS NULL THEN
        SELECT COALESCE(MAX(number), 0) + 1 INTO NEW.number
            FROM contacts WHERE tenant_id = NEW.tenant_id;
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER contacts_numbered BEFORE INSERT ON contacts
    FOR EACH ROW EXECUTE FUNCTION loket_number_contact();
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Europe/Amsterdam';
