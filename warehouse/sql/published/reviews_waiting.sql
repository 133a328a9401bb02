-- marts.reviews_waiting: feedback loaded for a submission_id not (yet) known as of the
-- current snapshot; it counts as soon as the submission arrives.
SELECT
    $as_of::DATE AS as_of,
    submission_id,
    ministry,
    reviewed_at,
    delivery_date,
    file_name
FROM waiting_reviews_as_of($as_of::DATE)
ORDER BY submission_id, ministry_key;
