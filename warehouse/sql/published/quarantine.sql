-- marts.quarantine: where each quarantined row is and which rule it broke.
-- The offending value stays in the internal warehouse (it may be personal data).
SELECT
    l.delivery_date,
    l.source,
    l.file_name,
    q.sha256,
    q.row_number,
    q.column_name,
    q.rule
FROM ops.quarantine AS q
JOIN ops.loads AS l USING (sha256)
ORDER BY l.source, l.delivery_date, l.file_name, q.row_number, q.column_name, q.rule;
