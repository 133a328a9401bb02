-- marts.category_summary: one row per track x category of the contract.
SELECT
    $as_of::DATE AS as_of,
    c.track,
    c.category,
    count(q.submission_id) AS n_requests,
    count(DISTINCT q.country_iso3) AS n_countries
FROM ref.categories AS c
LEFT JOIN requests_as_of($as_of::DATE) AS q USING (track, category)
GROUP BY c.track, c.category;
