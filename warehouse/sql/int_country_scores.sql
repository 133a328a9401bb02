-- Per country: request counts by track, its reviews, and the means over its requests that
-- have a score (from the rounded request figures, summed exactly as decimals), rounded to 4 places. Countries with a
-- score are ranked by score desc, then n_reviews desc, then country_iso3 asc; the first
-- `shortlist_size` are shortlisted.
CREATE OR REPLACE MACRO country_scores(
    d, w_cooperation, w_prospects, w_business, shortlist_size, trim_reviews, normalize_ministries, exclude_ministry
) AS TABLE
WITH per_country AS (
    SELECT
        country_iso3,
        count(*) AS n_requests,
        count(*) FILTER (WHERE track = 'urban_development') AS n_urban_development,
        count(*) FILTER (WHERE track = 'smart_solution') AS n_smart_solution,
        count(*) FILTER (WHERE track = 'other') AS n_other,
        sum(n_reviews)::BIGINT AS n_reviews,
        round(avg(avg_cooperation::DECIMAL(18, 4)) FILTER (WHERE score IS NOT NULL), 4) AS avg_cooperation,
        round(avg(avg_prospects::DECIMAL(18, 4)) FILTER (WHERE score IS NOT NULL), 4) AS avg_prospects,
        round(avg(avg_business::DECIMAL(18, 4)) FILTER (WHERE score IS NOT NULL), 4) AS avg_business,
        round(avg(score::DECIMAL(18, 4)), 4) AS score  -- exact decimal sums: order-independent
    FROM request_scores(d, w_cooperation, w_prospects, w_business, trim_reviews, normalize_ministries, exclude_ministry)
    GROUP BY country_iso3
),
ranked AS (
    SELECT
        *,
        CASE WHEN score IS NOT NULL THEN row_number() OVER (
            ORDER BY score DESC NULLS LAST, n_reviews DESC, country_iso3 ASC
        ) END AS rank
    FROM per_country
)
SELECT *, coalesce(rank <= shortlist_size, false) AS shortlisted
FROM ranked;
