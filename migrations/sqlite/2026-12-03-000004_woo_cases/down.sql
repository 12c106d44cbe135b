DROP TRIGGER messages_legal_hold;
DROP TRIGGER conversations_legal_hold;
DROP TABLE legal_holds;
DROP TABLE woo_search_log;
DROP TABLE woo_documents;
DROP TABLE woo_suspensions;
DROP TABLE woo_case_events;
DROP TABLE woo_cases;
