-- upgrade
INSERT INTO notes (id, body) VALUES (1, 'migrated at startup');

-- rollback
DELETE FROM notes WHERE id = 1;
