-- marts.track_summary: one row per track (every track of the contract, zero when empty).
WITH tracks AS (SELECT DISTINCT track FROM ref.categories)
SELECT
    $as_of::DATE AS as_of,
    t.track,
    count(q.submission_id) AS n_requests,
    count(DISTINCT q.country_iso3) AS n_countries
FROM tracks AS t
LEFT JOIN requests_as_of($as_of::DATE) AS q USING (track)
GROUP BY t.track;
