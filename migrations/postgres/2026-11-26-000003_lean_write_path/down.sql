DROP INDEX messages_rfc_id;
CREATE INDEX messages_rfc_id ON messages (tenant_id, rfc_message_id);
