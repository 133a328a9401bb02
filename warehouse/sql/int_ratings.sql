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
    FROM long WHERE normalize_ministries GROUP BY ALL
),
overall AS (
    SELECT criterion, avg(rating) AS o_mean, coalesce(stddev_samp(rating), 0) AS o_sd
    FROM long WHERE normalize_ministries GROUP BY ALL
),
-- Each option is a branch that is empty unless the option is on, so the default scoring
-- pays for neither the per-ministry statistics nor the windows (minutes at 1M requests).
valued AS (
    SELECT l.*, l.rating::DECIMAL(18, 6) AS value  -- exact sums: order-independent results
    FROM long AS l
    WHERE NOT normalize_ministries
    UNION ALL
    SELECT
        l.*,
        (o.o_mean + o.o_sd * coalesce((l.rating - m.m_mean) / nullif(m.m_sd, 0), 0))::DECIMAL(18, 6) AS value
    FROM long AS l
    JOIN per_ministry AS m USING (ministry_key, criterion)
    JOIN overall AS o USING (criterion)
    WHERE normalize_ministries
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
