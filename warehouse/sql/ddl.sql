-- Internal warehouse: only the pipeline opens it (a DuckDB file, or DuckLake: same SQL).
-- raw: every row as read (text), with lineage (sha256, row_number).
-- stg: validated, typed rows.  ops: ledgers and quarantine.  hist: mart snapshots by as_of.
-- state: the newest day's layers (reviews, request scores, scores with a ministry left out,
--   scores under the other ranking methods, normalised rating values) kept for the next
--   night to patch.
-- No PRIMARY KEY clauses (DuckLake has none): every write replaces by key (DELETE, then
-- INSERT, in one transaction) and warehouse/checks/keys_unique.sql checks the keys each run.
-- Columns added after the first release are in CREATE TABLE and in an ALTER below (for
-- warehouses created before them).
CREATE SCHEMA IF NOT EXISTS ref;
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS stg;
CREATE SCHEMA IF NOT EXISTS ops;
CREATE SCHEMA IF NOT EXISTS hist;
CREATE SCHEMA IF NOT EXISTS state;

-- One row per distinct file content loaded (or rejected): the unit of loading.
CREATE TABLE IF NOT EXISTS ops.loads (
    sha256 VARCHAR NOT NULL,           -- key
    source VARCHAR NOT NULL,
    delivery_date DATE NOT NULL,
    file_name VARCHAR NOT NULL,
    rel_path VARCHAR NOT NULL,
    status VARCHAR NOT NULL,            -- loaded | rejected
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    error VARCHAR,
    notes VARCHAR,
    loaded_at TIMESTAMP NOT NULL
);

-- Every path ever seen in the inbox, with the content it had.
CREATE TABLE IF NOT EXISTS ops.inbox_files (
    rel_path VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    delivery_date DATE,
    file_name VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    problem VARCHAR,                    -- set when the file is not loadable where it is
    first_seen_at TIMESTAMP NOT NULL,
    present BOOLEAN DEFAULT true,
    stat_key VARCHAR                    -- key: (rel_path, sha256)
);

-- Whether each path/content is still in the inbox (files may be removed; data stays loaded).
ALTER TABLE ops.inbox_files ADD COLUMN IF NOT EXISTS present BOOLEAN DEFAULT true;

CREATE TABLE IF NOT EXISTS ops.quarantine (
    sha256 VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,
    column_name VARCHAR,
    rule VARCHAR NOT NULL,
    value VARCHAR                       -- raw offending value: internal only, never published
);

CREATE TABLE IF NOT EXISTS ops.snapshots (
    as_of DATE NOT NULL,                -- key
    built_at TIMESTAMP NOT NULL,
    parameters VARCHAR NOT NULL,
    inputs VARCHAR,
    with_latest BOOLEAN DEFAULT false,
    loads VARCHAR,
    patched BIGINT DEFAULT 0
);

-- The inputs key of the layers kept in schema state (warehouse/db.py, KEPT_TABLES; written
-- with them by _materialize_day; no row: none kept).
CREATE TABLE IF NOT EXISTS state.day_layers (inputs VARCHAR);

CREATE TABLE IF NOT EXISTS raw.submission_rows (
    sha256 VARCHAR NOT NULL, row_number BIGINT NOT NULL,
    submission_id VARCHAR, submitted_at VARCHAR, country VARCHAR, institution VARCHAR,
    institution_type VARCHAR, track VARCHAR, category VARCHAR, project_title VARCHAR,
    description VARCHAR, budget_usd VARCHAR, contact_name VARCHAR, contact_email VARCHAR,
    status VARCHAR, shape_rule VARCHAR, shape_value VARCHAR
);

CREATE TABLE IF NOT EXISTS raw.feedback_rows (
    sha256 VARCHAR NOT NULL, row_number BIGINT NOT NULL,
    submission_id VARCHAR, ministry VARCHAR, cooperation VARCHAR, prospects VARCHAR,
    business VARCHAR, comment VARCHAR, reviewed_at VARCHAR, shape_rule VARCHAR, shape_value VARCHAR
);

CREATE TABLE IF NOT EXISTS stg.submissions (
    sha256 VARCHAR NOT NULL, row_number BIGINT NOT NULL,
    submission_id VARCHAR NOT NULL, submitted_at TIMESTAMP NOT NULL, country_iso3 VARCHAR NOT NULL,
    institution VARCHAR NOT NULL, institution_type VARCHAR, track VARCHAR NOT NULL,
    category VARCHAR NOT NULL, project_title VARCHAR NOT NULL, description VARCHAR,
    budget_usd DOUBLE, contact_name VARCHAR, contact_email VARCHAR NOT NULL, status VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS stg.feedback (
    sha256 VARCHAR NOT NULL, row_number BIGINT NOT NULL,
    submission_id VARCHAR NOT NULL, ministry VARCHAR NOT NULL,
    cooperation INTEGER, prospects INTEGER, business INTEGER,
    comment VARCHAR, reviewed_at DATE NOT NULL
);

-- One row per (date, flow run): what each nightly or backfill did for that day.
CREATE TABLE IF NOT EXISTS ops.run_ledger (
    as_of DATE NOT NULL,
    flow_run_id VARCHAR NOT NULL,
    flow_name VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status VARCHAR NOT NULL,            -- completed | failed | dry_run
    files_loaded BIGINT NOT NULL,
    files_rejected BIGINT NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    message VARCHAR                     -- key: (as_of, flow_run_id)
);

-- A row's shape problem (ragged CSV row, broken JSON line), kept with the raw row so a
-- re-validation from the raw record reports the same rule.
ALTER TABLE raw.submission_rows ADD COLUMN IF NOT EXISTS shape_rule VARCHAR;
ALTER TABLE raw.submission_rows ADD COLUMN IF NOT EXISTS shape_value VARCHAR;
ALTER TABLE raw.feedback_rows ADD COLUMN IF NOT EXISTS shape_rule VARCHAR;
ALTER TABLE raw.feedback_rows ADD COLUMN IF NOT EXISTS shape_value VARCHAR;

-- What each snapshot was built from (skip a day whose inputs did not change), and whether it
-- holds the latest-only marts (warehouse/db.py, LATEST_ONLY).
ALTER TABLE ops.snapshots ADD COLUMN IF NOT EXISTS inputs VARCHAR;
ALTER TABLE ops.snapshots ADD COLUMN IF NOT EXISTS with_latest BOOLEAN DEFAULT false;
-- The loads the inputs key was made of, and how many requests' rows were patched into the
-- latest-only marts since they were built whole (warehouse/db.py, _patchable).
ALTER TABLE ops.snapshots ADD COLUMN IF NOT EXISTS loads VARCHAR;
ALTER TABLE ops.snapshots ADD COLUMN IF NOT EXISTS patched BIGINT DEFAULT 0;

-- Which snapshot each publish wrote (a run whose snapshot is already published only
-- replaces the published run tables).
CREATE TABLE IF NOT EXISTS ops.publications (
    path VARCHAR NOT NULL,
    as_of DATE,
    built_at TIMESTAMP,
    published_at TIMESTAMP NOT NULL,
    file_stamp VARCHAR,
    patched BIGINT DEFAULT 0
);
-- The published file as the publish left it (warehouse/db.py, file_stamp): the next publish
-- copies it only if it is still that file.
ALTER TABLE ops.publications ADD COLUMN IF NOT EXISTS file_stamp VARCHAR;
-- Requests whose rows were patched into the file since it was written whole.
ALTER TABLE ops.publications ADD COLUMN IF NOT EXISTS patched BIGINT DEFAULT 0;

-- Size, mtime, ctime and inode of each path/content when last seen: an unchanged file is
-- not hashed again.
ALTER TABLE ops.inbox_files ADD COLUMN IF NOT EXISTS stat_key VARCHAR;

-- The warehouse state the checks last passed on (warehouse/db.py, checks_state): a run that
-- changed nothing since does not scan every row again.
CREATE TABLE IF NOT EXISTS ops.checks_passed (
    state VARCHAR NOT NULL,
    checked_at TIMESTAMP NOT NULL
);
