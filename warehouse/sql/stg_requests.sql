-- Requests counted as of date d (CONTRACT 5): per submission_id the latest valid version
-- delivered on or before d (latest delivery date, then file name, then row order);
-- a latest version that withdraws the request removes it. Office comes from ref.categories.
CREATE OR REPLACE MACRO requests_as_of(d) AS TABLE
WITH versions AS (
    SELECT s.*, l.delivery_date, l.file_name
    FROM stg.submissions AS s
    JOIN ops.loads AS l USING (sha256)
    WHERE l.status = 'loaded' AND l.delivery_date <= d
),
latest AS (
    SELECT *
    FROM versions
    QUALIFY row_number() OVER (
        PARTITION BY submission_id
        ORDER BY delivery_date DESC, file_name DESC, sha256 DESC, row_number DESC
    ) = 1
)
SELECT latest.*, c.office
FROM latest
JOIN ref.categories AS c USING (track, category)
WHERE latest.status <> 'withdrawn';
