-- marts.track_summary: one row per track (every track of the contract, zero when empty).
WITH tracks AS (SELECT DISTINCT track FROM ref.categories)
SELECT
    $as_of::DATE AS as_of,
    t.track,
    coalesce(sum(g.n_requests), 0)::BIGINT AS n_requests,
    count(DISTINCT g.country_iso3) AS n_countries
FROM tracks AS t
LEFT JOIN request_groups($as_of::DATE) AS g USING (track)
GROUP BY t.track;
