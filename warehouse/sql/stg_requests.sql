-- Requests counted as of date d (CONTRACT 5): per submission_id the latest valid version
-- delivered on or before d (latest delivery date, then file name, then row order);
-- a latest version that withdraws the request removes it. Office comes from ref.categories.
-- `staged`: the table of staged form rows to read (a name for query_table), stg.submissions or
-- a part of it holding every row of some requests (warehouse/db.py patches a day's layers
-- with the rows of the requests a delivery touched: a filter outside the macro is not pushed
-- below its window, so the whole table would be versioned).
CREATE OR REPLACE MACRO requests_from(d, staged) AS TABLE
-- The window sorts the keys alone (a staged row: its id, content and row), then the rows are
-- read: sorting whole rows (descriptions, contacts) took 2.0 s for 0.9 s at 2M requests. Two
-- scans rather than one shared CTE: a stored macro's CTE referenced twice is materialised,
-- whole rows again.
WITH newest AS (
    SELECT s.submission_id, s.sha256, s.row_number
    FROM query_table(staged) AS s
    JOIN ops.loads AS l USING (sha256)
    WHERE l.status = 'loaded' AND l.delivery_date <= d
    QUALIFY row_number() OVER (
        PARTITION BY s.submission_id
        ORDER BY l.delivery_date DESC, l.file_name DESC, s.sha256 DESC, s.row_number DESC
    ) = 1
),
latest AS (
    SELECT s.*, l.delivery_date, l.file_name
    FROM query_table(staged) AS s
    SEMI JOIN newest AS n
        ON n.submission_id = s.submission_id AND n.sha256 = s.sha256 AND n.row_number = s.row_number
    JOIN ops.loads AS l ON l.sha256 = s.sha256
)
SELECT latest.*, c.office
FROM latest
JOIN ref.categories AS c USING (track, category)
WHERE latest.status <> 'withdrawn';

CREATE OR REPLACE MACRO requests_as_of(d) AS TABLE FROM requests_from(d, 'stg.submissions');

-- Requests counted as of date d by track, category and country: what the summary marts
-- count (headline, track_summary, category_summary, office_routing). One pass over the
-- requests serves all four (warehouse/db.py keeps a day's in a temp table).
CREATE OR REPLACE MACRO request_groups(d) AS TABLE
SELECT track, category, country_iso3, count(*) AS n_requests
FROM requests_as_of(d)
GROUP BY ALL;
