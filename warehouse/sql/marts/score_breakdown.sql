-- marts.score_breakdown: every rating behind every score, one row per counted request x
-- ministry x criterion, with the value scoring used (after the optional normalisation),
-- whether trimming left it out, and the criterion's weight.
SELECT
    $as_of::DATE AS as_of,
    q.country_iso3,
    r.submission_id,
    r.ministry,
    r.criterion,
    r.rating,
    r.value AS value_used,
    r.trimmed,
    CASE r.criterion
        WHEN 'cooperation' THEN $w_cooperation
        WHEN 'prospects' THEN $w_prospects
        ELSE $w_business
    END::DOUBLE AS weight
FROM ratings_as_of($as_of::DATE, $trim_reviews, $normalize_ministries, NULL) AS r
JOIN requests_as_of($as_of::DATE) AS q USING (submission_id);
