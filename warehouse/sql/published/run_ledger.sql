-- marts.run_ledger: what each nightly or backfill run did, day by day.
SELECT *
FROM ops.run_ledger
ORDER BY started_at, as_of;
