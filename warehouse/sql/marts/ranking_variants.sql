-- marts.ranking_variants: the ranking under each scoring method, side by side:
-- contract_default (plain means), trimmed_mean (drop highest and lowest with 5+ reviews),
-- ministry_normalized (per-ministry z-scores). used_for_summary marks the run's method.
WITH variants AS (
    SELECT 'contract_default' AS method, false AS t, false AS n, *
    FROM country_scores($as_of::DATE, $w_cooperation, $w_prospects, $w_business, $shortlist_size, false, false, NULL)
    UNION ALL BY NAME
    SELECT 'trimmed_mean' AS method, true AS t, false AS n, *
    FROM country_scores($as_of::DATE, $w_cooperation, $w_prospects, $w_business, $shortlist_size, true, false, NULL)
    UNION ALL BY NAME
    SELECT 'ministry_normalized' AS method, false AS t, true AS n, *
    FROM country_scores($as_of::DATE, $w_cooperation, $w_prospects, $w_business, $shortlist_size, false, true, NULL)
)
SELECT
    $as_of::DATE AS as_of,
    v.method,
    v.country_iso3,
    c.name_en AS country_name,
    v.n_reviews,
    v.score,
    v.rank,
    v.shortlisted,
    (v.t = $trim_reviews AND v.n = $normalize_ministries) AS used_for_summary
FROM variants AS v
LEFT JOIN ref.countries AS c ON c.iso3 = v.country_iso3;
