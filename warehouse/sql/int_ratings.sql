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
per_ministry AS (
    SELECT ministry_key, criterion, avg(rating) AS m_mean, stddev_samp(rating) AS m_sd
    FROM long GROUP BY ALL
),
overall AS (
    SELECT criterion, avg(rating) AS o_mean, coalesce(stddev_samp(rating), 0) AS o_sd
    FROM long GROUP BY ALL
),
valued AS (
    SELECT
        l.*,
        CASE
            WHEN normalize_ministries
                THEN o.o_mean + o.o_sd * coalesce((l.rating - m.m_mean) / nullif(m.m_sd, 0), 0)
            ELSE l.rating
        END::DECIMAL(18, 6) AS value  -- exact sums: results do not depend on summation order
    FROM long AS l
    JOIN per_ministry AS m USING (ministry_key, criterion)
    JOIN overall AS o USING (criterion)
),
ordered AS (
    SELECT
        *,
        count(*) OVER w AS n_ratings,
        row_number() OVER (w ORDER BY value ASC, ministry_key ASC) AS from_low,
        row_number() OVER (w ORDER BY value DESC, ministry_key DESC) AS from_high
    FROM valued
    WINDOW w AS (PARTITION BY submission_id, criterion)
)
SELECT
    submission_id, ministry, ministry_key, criterion, rating, value,
    coalesce(trim_reviews AND n_ratings >= 5 AND (from_low = 1 OR from_high = 1), false) AS trimmed
FROM ordered;
