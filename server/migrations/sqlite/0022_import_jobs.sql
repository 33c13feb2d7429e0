-- Bulk imports (issue 31): one row per import of a file with a mapping, so an auditor can trace an
-- imported consent to its file (name, SHA-256), who ran it and when, and what it wrote. `batch`
-- (the SHA-256 of the file's digest and the mapping) makes a second run of the same file resume
-- it or write nothing; `last_line` is committed with each batch of rows.
CREATE TABLE import_jobs (
    id                BLOB PRIMARY KEY,
    batch             TEXT NOT NULL UNIQUE,
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    file_name         TEXT NOT NULL,
    file_sha256       TEXT NOT NULL,
    mapping           TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    rows_read         INTEGER NOT NULL DEFAULT 0,
    events_written    INTEGER NOT NULL DEFAULT 0,
    rows_refused      INTEGER NOT NULL DEFAULT 0,
    last_line         INTEGER NOT NULL DEFAULT 0,
    error_report      TEXT NOT NULL DEFAULT '',
    report_truncated  BOOLEAN NOT NULL DEFAULT FALSE,
    failure           TEXT
);
CREATE INDEX import_jobs_by_time ON import_jobs (created_at);
