-- marts.headline: one row per snapshot.
SELECT
    $as_of::DATE AS as_of,
    count(DISTINCT g.country_iso3) AS n_countries,
    coalesce(sum(g.n_requests), 0)::BIGINT AS n_requests,
    (SELECT count(*) FROM reviews_as_of($as_of::DATE)) AS n_reviews,
    (SELECT count(*) FROM waiting_reviews_as_of($as_of::DATE)) AS n_reviews_waiting,
    (SELECT count(*) FROM country_scores($as_of::DATE, $w_cooperation, $w_prospects, $w_business, $shortlist_size, $trim_reviews, $normalize_ministries, NULL) WHERE shortlisted) AS n_shortlisted
FROM request_groups($as_of::DATE) AS g;
