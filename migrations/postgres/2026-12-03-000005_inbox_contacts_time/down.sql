DROP TRIGGER contacts_numbered ON contacts;
DROP FUNCTION loket_number_contact();
DROP INDEX contacts_number;
ALTER TABLE contacts DROP COLUMN clerk_name;
ALTER TABLE contacts DROP COLUMN number;
ALTER TABLE tenants DROP COLUMN time_zone;
