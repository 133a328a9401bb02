-- Every readable file: rows read = rows loaded + rows quarantined, and the stored rows agree.
SELECT l.sha256, l.rel_path, l.rows_read, l.rows_loaded, l.rows_quarantined
FROM ops.loads AS l
LEFT JOIN (
    SELECT sha256, count(*) AS n FROM stg.submissions GROUP BY ALL
    UNION ALL
    SELECT sha256, count(*) FROM stg.feedback GROUP BY ALL
) AS s USING (sha256)
LEFT JOIN (SELECT sha256, count(DISTINCT row_number) AS n FROM ops.quarantine GROUP BY ALL) AS q USING (sha256)
WHERE l.status = 'loaded'
  AND (l.rows_read <> l.rows_loaded + l.rows_quarantined
       OR coalesce(s.n, 0) <> l.rows_loaded
       OR coalesce(q.n, 0) <> l.rows_quarantined);
