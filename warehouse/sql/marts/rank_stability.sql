-- marts.rank_stability: for each shortlisted country, its rank with one ministry's reviews
-- left out ($exclude_ministry; built once per ministry that reviewed as of the date).
-- The ranking with every review is the day's country_summary (a daily mart: built before
-- the latest-only marts, from the same country_scores), read rather than computed again
-- once per ministry.
WITH base AS (
    SELECT country_iso3, rank
    FROM hist.country_summary
    WHERE as_of = $as_of::DATE AND shortlisted
),
without AS (
    FROM country_scores($as_of::DATE, $w_cooperation, $w_prospects, $w_business, $shortlist_size, $trim_reviews, $normalize_ministries, $exclude_ministry)
)
SELECT
    $as_of::DATE AS as_of,
    b.country_iso3,
    (SELECT min(ministry) FROM reviews_as_of($as_of::DATE) WHERE ministry_key = $exclude_ministry) AS ministry_left_out,
    b.rank,
    w.rank AS rank_without,
    coalesce(w.shortlisted, false) AS still_shortlisted
FROM base AS b
LEFT JOIN without AS w USING (country_iso3);
