-- upgrade
ALTER TABLE users ADD COLUMN name TEXT;

-- rollback
ALTER TABLE users DROP COLUMN name;
