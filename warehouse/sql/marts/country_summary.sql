-- marts.country_summary: one row per country with at least one counted request.
SELECT
    $as_of::DATE AS as_of,
    s.country_iso3,
    n.name_en AS country_name,
    s.n_requests,
    s.n_urban_development,
    s.n_smart_solution,
    s.n_other,
    s.n_reviews,
    s.avg_cooperation,
    s.avg_prospects,
    s.avg_business,
    s.score,
    s.rank,
    s.shortlisted
FROM country_scores($as_of::DATE, $w_cooperation, $w_prospects, $w_business, $shortlist_size, $trim_reviews, $normalize_ministries, NULL) AS s
LEFT JOIN ref.countries AS n ON n.iso3 = s.country_iso3;
