-- The committee's trimmed mean of one criterion's ratings (an aggregate's argument: the
-- integer ratings): with five or more, the mean without one highest and one lowest; else
-- the plain mean. Four integer aggregates, one division of an exact sum: the same doubles as
-- the DECIMAL sums and avg() it replaces (every request identical at 1M and 2M, with and
-- without a ministry left out), with ranking_variants 1.8 -> 1.25 s at 1M, 5.4 -> 3.6 s at 2M.
CREATE OR REPLACE MACRO trimmed_mean(x) AS
    CASE WHEN count(x) >= 5 THEN (sum(x) - min(x) - max(x)) / (count(x) - 2) ELSE sum(x) / count(x) END;

-- A request's score: the weighted mean of the criteria averages that are present, rounded to
-- 4 places (NULL when none is).
CREATE OR REPLACE MACRO weighted_score(avg_cooperation, avg_prospects, avg_business, w_cooperation, w_prospects, w_business) AS
    round(
        (coalesce(w_cooperation * avg_cooperation, 0)
            + coalesce(w_prospects * avg_prospects, 0)
            + coalesce(w_business * avg_business, 0))
        / nullif(
            (CASE WHEN avg_cooperation IS NULL THEN 0 ELSE w_cooperation END)
            + (CASE WHEN avg_prospects IS NULL THEN 0 ELSE w_prospects END)
            + (CASE WHEN avg_business IS NULL THEN 0 ELSE w_business END),
            0
        ),
        4
    );

-- Per ministry, the normalised value of each rating 1-5 of each criterion (ratings are
-- integers from 1 to 5, the contract's score_1_to_5), from its own and the overall
-- statistics (read once): a review's values are looked up by its ratings rather than
-- computed per review (the same DECIMALs: normalized_rating of the same arguments; the
-- normalised ranking of 1M requests 2.1 -> 0.9 s). They are all a request's normalised
-- means depend on besides its own ratings: while they stay the same, so do the means of
-- every request whose reviews do (warehouse/db.py keeps them with the day's layers). No
-- row unless `normalize`.
CREATE OR REPLACE MACRO normalized_values(d, normalize, exclude_ministry) AS TABLE
WITH stats AS MATERIALIZED (FROM rating_stats(d, normalize, exclude_ministry)),
norm_stats AS (
    SELECT m.*, o.cooperation_mean AS o_cooperation_mean, coalesce(o.cooperation_sd, 0) AS o_cooperation_sd,
        o.prospects_mean AS o_prospects_mean, coalesce(o.prospects_sd, 0) AS o_prospects_sd,
        o.business_mean AS o_business_mean, coalesce(o.business_sd, 0) AS o_business_sd
    FROM stats AS m JOIN stats AS o ON NOT m.overall AND o.overall
)
SELECT
    ministry_key,
    [normalized_rating(x, cooperation_mean, cooperation_sd, o_cooperation_mean, o_cooperation_sd)
        FOR x IN range(1, 6)] AS cooperation,
    [normalized_rating(x, prospects_mean, prospects_sd, o_prospects_mean, o_prospects_sd)
        FOR x IN range(1, 6)] AS prospects,
    [normalized_rating(x, business_mean, business_sd, o_business_mean, o_business_sd)
        FOR x IN range(1, 6)] AS business
FROM norm_stats;

-- Per counted request: its reviews' mean per criterion (not-rated left out, trimmed values
-- left out) and the weighted mean of the criteria that are present, each rounded to 4
-- places. The score is computed from the rounded averages, so it can be recomputed from
-- the published table.
CREATE OR REPLACE MACRO compute_request_scores(
    d, w_cooperation, w_prospects, w_business, trim_reviews, normalize_ministries, exclude_ministry
) AS TABLE
WITH ratings AS (
    FROM ratings_as_of(d, trim_reviews, normalize_ministries, exclude_ministry)
    WHERE normalize_ministries AND trim_reviews
),
norm_values AS (FROM normalized_values(d, normalize_ministries AND NOT trim_reviews, exclude_ministry)),
-- Plain means (the contract default) straight from the reviews, one row each: the same
-- figures as through the one-row-per-rating table (a ministry counts when it gave at least
-- one rating; a missing rating is left out), without unpivoting millions of reviews; and
-- as reviews_as_of holds one review per (request, ministry), count(*) counts ministries
-- (count(DISTINCT) costs ~1 s per pass at 1M requests). Each branch is empty unless its
-- options hold.
per_request AS (
    SELECT
        submission_id,
        count(*) FILTER (
            WHERE cooperation IS NOT NULL OR prospects IS NOT NULL OR business IS NOT NULL
        ) AS n_reviews,
        round(avg(cooperation::DECIMAL(18, 6)), 4) AS avg_cooperation,
        round(avg(prospects::DECIMAL(18, 6)), 4) AS avg_prospects,
        round(avg(business::DECIMAL(18, 6)), 4) AS avg_business
    FROM reviews_as_of(d)
    WHERE NOT trim_reviews AND NOT normalize_ministries
        AND (exclude_ministry IS NULL OR ministry_key <> exclude_ministry)
    GROUP BY submission_id
    UNION ALL
    -- Trimmed means, also from the reviews: with five or more ratings of a criterion, the
    -- highest and the lowest (one each) are left out, so the mean of the rest is
    -- (sum - min - max) / (n - 2). Exact: the sums are of integers, and both branches
    -- divide an exact value once. No per-rating rows and no window sort (the windows of
    -- ratings_as_of took ~45 s of a 2M-request snapshot).
    SELECT
        submission_id,
        count(*) FILTER (
            WHERE cooperation IS NOT NULL OR prospects IS NOT NULL OR business IS NOT NULL
        ) AS n_reviews,
        round(trimmed_mean(cooperation), 4) AS avg_cooperation,
        round(trimmed_mean(prospects), 4) AS avg_prospects,
        round(trimmed_mean(business), 4) AS avg_business
    FROM reviews_as_of(d)
    WHERE trim_reviews AND NOT normalize_ministries
        AND (exclude_ministry IS NULL OR ministry_key <> exclude_ministry)
    GROUP BY submission_id
    UNION ALL
    -- Normalised means (without trimming), from the reviews as well: each rating mapped as
    -- ratings_as_of maps it (normalized_rating with its ministry's statistics, looked up in
    -- norm_values; a missing rating indexes no value), one row per review instead of
    -- unpivoting them (the normalised ranking of 1M requests: 1.5 s, was 3.9 s).
    SELECT
        r.submission_id,
        count(*) FILTER (
            WHERE r.cooperation IS NOT NULL OR r.prospects IS NOT NULL OR r.business IS NOT NULL
        ) AS n_reviews,
        round(avg(v.cooperation[r.cooperation]), 4) AS avg_cooperation,
        round(avg(v.prospects[r.prospects]), 4) AS avg_prospects,
        round(avg(v.business[r.business]), 4) AS avg_business
    FROM reviews_as_of(d) AS r
    JOIN norm_values AS v USING (ministry_key)
    WHERE normalize_ministries AND NOT trim_reviews
        AND (exclude_ministry IS NULL OR r.ministry_key <> exclude_ministry)
    GROUP BY r.submission_id
    UNION ALL
    -- Trimmed and normalised: through every rating (the windows of ratings_as_of).
    SELECT
        submission_id,
        count(DISTINCT ministry_key) AS n_reviews,
        round(avg(value) FILTER (WHERE criterion = 'cooperation' AND NOT trimmed), 4) AS avg_cooperation,
        round(avg(value) FILTER (WHERE criterion = 'prospects' AND NOT trimmed), 4) AS avg_prospects,
        round(avg(value) FILTER (WHERE criterion = 'business' AND NOT trimmed), 4) AS avg_business
    FROM ratings
    GROUP BY submission_id
)
SELECT
    q.*,
    coalesce(p.n_reviews, 0) AS n_reviews,
    p.avg_cooperation,
    p.avg_prospects,
    p.avg_business,
    weighted_score(p.avg_cooperation, p.avg_prospects, p.avg_business, w_cooperation, w_prospects, w_business)
        AS score
FROM requests_as_of(d) AS q
LEFT JOIN per_request AS p USING (submission_id);

-- The name marts use. While a day's marts are built, a temporary macro of this name serves
-- the run's own scoring from a table computed once (warehouse/db.py, _materialize_day).
CREATE OR REPLACE MACRO request_scores(
    d, w_cooperation, w_prospects, w_business, trim_reviews, normalize_ministries, exclude_ministry
) AS TABLE
FROM compute_request_scores(d, w_cooperation, w_prospects, w_business, trim_reviews, normalize_ministries, exclude_ministry);

-- Under the contract's plain means: each request's scores with one ministry's reviews left
-- out, for every (request, ministry) of the reviews, in one pass. A request's sums and counts
-- of each criterion less the left-out review's own: the same figures as
-- compute_request_scores(..., false, false, that ministry) (one exact integer sum divided
-- once, as avg() of the DECIMALs does; every row identical at 1M), from one aggregation and
-- one join instead of five aggregations of every review (1M requests: 4.2 -> 1.2 s).
CREATE OR REPLACE MACRO compute_left_out_scores(d, w_cooperation, w_prospects, w_business) AS TABLE
WITH totals AS (
    SELECT
        submission_id,
        count(*) FILTER (
            WHERE cooperation IS NOT NULL OR prospects IS NOT NULL OR business IS NOT NULL
        ) AS n_reviews,
        sum(cooperation) AS s_cooperation, count(cooperation) AS n_cooperation,
        sum(prospects) AS s_prospects, count(prospects) AS n_prospects,
        sum(business) AS s_business, count(business) AS n_business
    FROM reviews_as_of(d)
    GROUP BY submission_id
),
without AS (
    SELECT
        r.ministry_key AS left_out,
        r.submission_id,
        t.n_reviews - (r.cooperation IS NOT NULL OR r.prospects IS NOT NULL OR r.business IS NOT NULL)::INTEGER
            AS n_reviews,
        round((t.s_cooperation - coalesce(r.cooperation, 0))
            / nullif(t.n_cooperation - (r.cooperation IS NOT NULL)::INTEGER, 0), 4) AS avg_cooperation,
        round((t.s_prospects - coalesce(r.prospects, 0))
            / nullif(t.n_prospects - (r.prospects IS NOT NULL)::INTEGER, 0), 4) AS avg_prospects,
        round((t.s_business - coalesce(r.business, 0))
            / nullif(t.n_business - (r.business IS NOT NULL)::INTEGER, 0), 4) AS avg_business
    FROM reviews_as_of(d) AS r
    JOIN totals AS t USING (submission_id)
)
SELECT
    *,
    weighted_score(avg_cooperation, avg_prospects, avg_business, w_cooperation, w_prospects, w_business) AS score
FROM without;
