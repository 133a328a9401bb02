-- marts.score_breakdown: every rating behind every score, one row per counted request x
-- ministry x criterion, with the value scoring used (after the optional normalisation),
-- whether trimming left it out, and the criterion's weight. Rows in (submission_id, ministry,
-- criterion) order, as published (BI filters on a request skip most of the table).
SELECT
    $as_of::DATE AS as_of,
    country_iso3,
    submission_id,
    ministry,
    criterion,
    rating,
    value_used,
    trimmed,
    CASE criterion
        WHEN 'cooperation' THEN $w_cooperation
        WHEN 'prospects' THEN $w_prospects
        ELSE $w_business
    END::DOUBLE AS weight
FROM (
    -- The contract's default scoring (the rating itself, nothing trimmed): straight from the
    -- reviews in their order, each review's ratings in criterion order, a missing one left
    -- out. No unpivot, no join and no sort of the ratings (8M at 1M requests).
    SELECT
        country_iso3, submission_id, ministry, criterion, rating,
        rating::DECIMAL(18, 6) AS value_used, false AS trimmed
    FROM (
        SELECT
            country_iso3, submission_id, ministry,
            unnest(['business', 'cooperation', 'prospects']) AS criterion,
            unnest([business, cooperation, prospects]) AS rating
        FROM country_reviews_as_of($as_of::DATE)
        WHERE NOT $trim_reviews AND NOT $normalize_ministries
    )
    WHERE rating IS NOT NULL
    UNION ALL
    -- Trimmed or normalised: through ratings_as_of, sorted.
    SELECT * FROM (
        SELECT q.country_iso3, r.submission_id, r.ministry, r.criterion, r.rating, r.value AS value_used, r.trimmed
        FROM ratings_as_of($as_of::DATE, $trim_reviews, $normalize_ministries, NULL) AS r
        JOIN requests_as_of($as_of::DATE) AS q USING (submission_id)
        WHERE $trim_reviews OR $normalize_ministries
        ORDER BY r.submission_id, r.ministry, r.criterion
    )
);
