-- marts.submissions: one row per counted request. No contact name or e-mail.
SELECT
    $as_of::DATE AS as_of,
    r.submission_id,
    r.country_iso3,
    n.name_en AS country_name,
    r.institution,
    r.institution_type,
    r.track,
    r.category,
    r.office,
    r.project_title,
    r.budget_usd,
    r.submitted_at,
    r.delivery_date,
    r.n_reviews,
    r.avg_cooperation,
    r.avg_prospects,
    r.avg_business,
    r.score
FROM request_scores($as_of::DATE, $w_cooperation, $w_prospects, $w_business, $trim_reviews, $normalize_ministries, NULL) AS r
LEFT JOIN ref.countries AS n ON n.iso3 = r.country_iso3;
