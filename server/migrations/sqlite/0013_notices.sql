-- Versioned privacy notices (R31, R32, R43): the text shown in each language, when it takes
-- effect, and whether it is a material change for some purposes (then consents given under an
-- earlier version need re-confirmation). Every event pins the version in force when it was made.
-- A published notice is evidence of what people were shown: append-only.
CREATE TABLE notices (
    version      TEXT PRIMARY KEY,
    effective_at TEXT NOT NULL,
    material     BOOLEAN NOT NULL,
    purposes     TEXT NOT NULL,           -- comma-separated purpose keys a material change affects; empty: all
    summary_ja   TEXT NOT NULL,
    summary_en   TEXT NOT NULL,
    text_ja      TEXT NOT NULL,
    text_en      TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL
);

CREATE TRIGGER notices_no_update BEFORE UPDATE ON notices
BEGIN
    SELECT RAISE(ABORT, 'notices is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER notices_no_delete BEFORE DELETE ON notices
BEGIN
    SELECT RAISE(ABORT, 'notices is append-only: DELETE is not allowed');
END;
