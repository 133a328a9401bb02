-- The ledgers' keys are unique (the warehouse declares no PRIMARY KEY: DuckLake has none,
-- so every write replaces by key and this check holds it to that).
SELECT 'ops.loads' AS ledger, sha256 AS key FROM ops.loads GROUP BY ALL HAVING count(*) > 1
UNION ALL
SELECT 'ops.inbox_files', rel_path || ' ' || sha256 FROM ops.inbox_files GROUP BY ALL HAVING count(*) > 1
UNION ALL
SELECT 'ops.snapshots', as_of::VARCHAR FROM ops.snapshots GROUP BY ALL HAVING count(*) > 1
UNION ALL
SELECT 'ops.run_ledger', as_of::VARCHAR || ' ' || flow_run_id FROM ops.run_ledger GROUP BY ALL HAVING count(*) > 1;
