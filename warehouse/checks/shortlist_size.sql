-- Ranks are 1..k without gaps, and the shortlist is exactly the first N ranks.
SELECT as_of, count(rank) AS ranked, max(rank) AS max_rank
FROM hist.country_summary
GROUP BY ALL
HAVING count(rank) <> coalesce(max(rank), 0)
    OR count(DISTINCT rank) <> count(rank)
    OR count(*) FILTER (WHERE shortlisted AND rank IS NULL) > 0;
