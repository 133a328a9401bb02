-- A rating as a z-score against its ministry's mean and spread of the criterion, mapped back
-- onto the scale of all ratings of the criterion; a ministry with one rating or no spread
-- gives the overall mean. Exact decimal, so sums are order-independent. One definition for
-- ratings_as_of and the scores' fast path (int_request_scores.sql): the same figures.
CREATE OR REPLACE MACRO normalized_rating(rating, m_mean, m_sd, o_mean, o_sd) AS
    (o_mean + o_sd * coalesce((rating - m_mean) / nullif(m_sd, 0), 0))::DECIMAL(18, 6);

-- Per ministry (overall false) and over all ministries (overall true, one row): mean and
-- sample spread of each criterion, straight from the reviews (one row each; a missing rating
-- is left out). No ministry's row unless `normalize`, so scoring without normalisation does
-- not pay for it. Reading the reviews once, not the one-row-per-rating table three times:
-- 18M ratings at 2M requests did not fit a 500 MB limit.
CREATE OR REPLACE MACRO rating_stats(d, normalize, exclude_ministry) AS TABLE
SELECT
    ministry_key,
    grouping(ministry_key) = 1 AS overall,
    avg(cooperation) AS cooperation_mean, stddev_samp(cooperation) AS cooperation_sd,
    avg(prospects) AS prospects_mean, stddev_samp(prospects) AS prospects_sd,
    avg(business) AS business_mean, stddev_samp(business) AS business_sd
FROM reviews_as_of(d)
WHERE normalize AND (exclude_ministry IS NULL OR ministry_key <> exclude_ministry)
GROUP BY GROUPING SETS ((ministry_key), ());

-- Every rating behind the scores, one row per (request, ministry, criterion), as of date d.
-- value: the rating used for scoring. With normalize_ministries, each ministry's ratings of a
--   criterion become z-scores against that ministry's own mean and spread, mapped back onto
--   the scale of all ratings of the criterion (lenient and harsh reviewers made comparable;
--   a ministry with one rating or no spread contributes the overall mean).
-- trimmed: with trim_reviews, a request-criterion rated by five or more ministries drops its
--   highest and lowest value (the committee convention).
-- exclude_ministry: leave one ministry's reviews out (rank stability); NULL keeps all.
CREATE OR REPLACE MACRO ratings_as_of(d, trim_reviews, normalize_ministries, exclude_ministry) AS TABLE
WITH reviews AS (
    SELECT submission_id, ministry, ministry_key, cooperation, prospects, business
    FROM reviews_as_of(d)
    WHERE exclude_ministry IS NULL OR ministry_key <> exclude_ministry
),
long AS (
    UNPIVOT reviews
    ON cooperation, prospects, business
    INTO NAME criterion VALUE rating
),
-- Statistics per ministry and criterion, and per criterion overall (rating_stats, read
-- once, so `long` streams).
stats AS (FROM rating_stats(d, normalize_ministries, exclude_ministry)),
per_ministry AS (
    SELECT ministry_key, 'cooperation' AS criterion, cooperation_mean AS m_mean, cooperation_sd AS m_sd
    FROM stats WHERE NOT overall
    UNION ALL
    SELECT ministry_key, 'prospects', prospects_mean, prospects_sd FROM stats WHERE NOT overall
    UNION ALL
    SELECT ministry_key, 'business', business_mean, business_sd FROM stats WHERE NOT overall
),
overall AS (
    SELECT 'cooperation' AS criterion, cooperation_mean AS o_mean, coalesce(cooperation_sd, 0) AS o_sd
    FROM stats WHERE overall
    UNION ALL
    SELECT 'prospects', prospects_mean, coalesce(prospects_sd, 0) FROM stats WHERE overall
    UNION ALL
    SELECT 'business', business_mean, coalesce(business_sd, 0) FROM stats WHERE overall
),
-- The statistics are empty unless normalize_ministries is on, so the default scoring pays
-- for neither them nor the windows below (minutes at 1M requests). One pass over `long`.
valued AS (
    SELECT
        l.*,
        CASE
            WHEN normalize_ministries
                THEN normalized_rating(l.rating, m.m_mean, m.m_sd, o.o_mean, o.o_sd)
            ELSE l.rating::DECIMAL(18, 6)  -- exact sums: order-independent results
        END AS value
    FROM long AS l
    LEFT JOIN per_ministry AS m USING (ministry_key, criterion)
    LEFT JOIN overall AS o USING (criterion)
),
-- Only request-criteria with five or more ratings can be trimmed: count first, so the
-- windows sort those few, not every rating.
counted AS (
    SELECT submission_id, criterion, count(*) AS n_ratings
    FROM valued
    WHERE trim_reviews
    GROUP BY ALL
),
ordered AS (
    SELECT
        v.*,
        c.n_ratings,
        row_number() OVER (w ORDER BY v.value ASC, v.ministry_key ASC) AS from_low,
        row_number() OVER (w ORDER BY v.value DESC, v.ministry_key DESC) AS from_high
    FROM valued AS v
    JOIN counted AS c USING (submission_id, criterion)
    WHERE trim_reviews AND c.n_ratings >= 5
    WINDOW w AS (PARTITION BY v.submission_id, v.criterion)
)
SELECT v.submission_id, v.ministry, v.ministry_key, v.criterion, v.rating, v.value, false AS trimmed
FROM valued AS v
WHERE NOT trim_reviews
UNION ALL
SELECT v.submission_id, v.ministry, v.ministry_key, v.criterion, v.rating, v.value, false AS trimmed
FROM valued AS v
JOIN counted AS c USING (submission_id, criterion)
WHERE trim_reviews AND c.n_ratings < 5
UNION ALL
SELECT
    submission_id, ministry, ministry_key, criterion, rating, value,
    (from_low = 1 OR from_high = 1) AS trimmed
FROM ordered;

-- The counted reviews with their request's country, in score_breakdown's row order (request,
-- then ministry): its rows under the default scoring come out of them in that order, so the
-- table is written sorted and published without sorting its millions of ratings again.
-- While a day's marts are built, the day's reviews table (stored in this order) serves it.
CREATE OR REPLACE MACRO country_reviews_as_of(d) AS TABLE
SELECT r.*, q.country_iso3
FROM reviews_as_of(d) AS r
JOIN requests_as_of(d) AS q USING (submission_id)
ORDER BY r.submission_id, r.ministry;
