DROP VIEW IF EXISTS user_emails;
CREATE VIEW user_emails AS SELECT id, email FROM users;
