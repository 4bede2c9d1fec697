-- upgrade
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    body VARCHAR(200) NOT NULL
);

-- rollback
DROP TABLE notes;
