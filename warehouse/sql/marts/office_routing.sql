-- marts.office_routing: one row per office x track x category (routing of CONTRACT 2.1).
SELECT
    $as_of::DATE AS as_of,
    c.office,
    c.track,
    c.category,
    coalesce(sum(g.n_requests), 0)::BIGINT AS n_requests,
    count(DISTINCT g.country_iso3) AS n_countries
FROM ref.categories AS c
LEFT JOIN request_groups($as_of::DATE) AS g USING (track, category)
GROUP BY c.office, c.track, c.category;
