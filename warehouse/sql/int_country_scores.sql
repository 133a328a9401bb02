-- What the country scores are of: each counted request's country, track and scores. While a
-- day's marts are built, a temporary macro of this name serves the other ranking methods'
-- scores from the table they are kept in (warehouse/db.py, _materialize_day), without joining
-- them to the requests (ranking_variants at 1M: two joins of 1M rows, ~0.1 s each).
CREATE OR REPLACE MACRO country_inputs(
    d, w_cooperation, w_prospects, w_business, trim_reviews, normalize_ministries, exclude_ministry
) AS TABLE
SELECT country_iso3, track, n_reviews, avg_cooperation, avg_prospects, avg_business, score
FROM request_scores(d, w_cooperation, w_prospects, w_business, trim_reviews, normalize_ministries, exclude_ministry);

-- Per country: request counts by track, its reviews, and the means over its requests that
-- have a score (from the rounded request figures, summed exactly as decimals), rounded to 4 places. Countries with a
-- score are ranked by score desc, then n_reviews desc, then country_iso3 asc; the first
-- `shortlist_size` are shortlisted.
CREATE OR REPLACE MACRO compute_country_scores(
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
    FROM country_inputs(d, w_cooperation, w_prospects, w_business, trim_reviews, normalize_ministries, exclude_ministry)
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

-- The name marts use. While a day's marts are built, a temporary macro of this name serves
-- the run's own scoring from a table computed once (warehouse/db.py, _materialize_day): the
-- headline, the country summary and the ranking variants each asked for it.
CREATE OR REPLACE MACRO country_scores(
    d, w_cooperation, w_prospects, w_business, shortlist_size, trim_reviews, normalize_ministries, exclude_ministry
) AS TABLE
FROM compute_country_scores(
    d, w_cooperation, w_prospects, w_business, shortlist_size, trim_reviews, normalize_ministries, exclude_ministry
);
