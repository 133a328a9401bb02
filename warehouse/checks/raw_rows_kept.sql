-- The raw record keeps every row read, so a backfill can re-validate without the file.
SELECT l.sha256, l.rel_path, l.rows_read, r.n
FROM ops.loads AS l
LEFT JOIN (
    SELECT sha256, count(*) AS n FROM raw.submission_rows GROUP BY ALL
    UNION ALL
    SELECT sha256, count(*) FROM raw.feedback_rows GROUP BY ALL
) AS r USING (sha256)
WHERE l.status = 'loaded' AND coalesce(r.n, 0) <> l.rows_read;
