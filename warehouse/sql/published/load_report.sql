-- marts.load_report: one row per file seen in the inbox (path x content).
-- status: loaded | rejected (unreadable; see error) | duplicate (same bytes as another
-- delivery, loaded once there) | ignored (not loadable where it is; see error).
SELECT
    f.delivery_date,
    f.source,
    f.file_name,
    nullif(f.sha256, '') AS sha256,
    CASE
        WHEN f.problem IS NOT NULL THEN 'ignored'
        WHEN l.rel_path = f.rel_path THEN l.status
        ELSE 'duplicate'
    END AS status,
    CASE WHEN l.rel_path = f.rel_path THEN l.rows_read ELSE 0 END AS rows_read,
    CASE WHEN l.rel_path = f.rel_path THEN l.rows_loaded ELSE 0 END AS rows_loaded,
    CASE WHEN l.rel_path = f.rel_path THEN l.rows_quarantined ELSE 0 END AS rows_quarantined,
    CASE
        WHEN f.problem IS NOT NULL THEN f.problem
        WHEN l.rel_path = f.rel_path THEN l.error
        WHEN l.rel_path IS NOT NULL THEN 'same content as ' || l.rel_path || ': read once, there'
    END AS error,
    nullif(concat_ws('; ',
        CASE WHEN l.rel_path = f.rel_path THEN l.notes END,
        CASE WHEN count(*) OVER (PARTITION BY f.rel_path) > 1
            THEN 'other content was delivered under this path too (a changed file): each is its own delivery' END,
        CASE WHEN NOT f.present THEN 'no longer in the inbox; what it loaded stays loaded' END
    ), '') AS notes,
    f.present AS in_inbox,
    f.rel_path AS path,
    l.loaded_at
FROM ops.inbox_files AS f
LEFT JOIN ops.loads AS l ON l.sha256 = f.sha256 AND f.problem IS NULL
ORDER BY f.source DESC, f.delivery_date NULLS LAST, f.file_name, f.rel_path;
