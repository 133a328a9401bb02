-- Every counted request is routed to exactly one office.
SELECT as_of, submission_id, count(*) AS n
FROM hist.submissions
GROUP BY ALL
HAVING count(*) <> 1 OR count(office) <> 1;
