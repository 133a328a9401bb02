-- marts.office_routing: one row per office x track x category (routing of CONTRACT 2.1).
SELECT
    $as_of::DATE AS as_of,
    c.office,
    c.track,
    c.category,
    count(q.submission_id) AS n_requests,
    count(DISTINCT q.country_iso3) AS n_countries
FROM ref.categories AS c
LEFT JOIN requests_as_of($as_of::DATE) AS q USING (track, category)
GROUP BY c.office, c.track, c.category;
