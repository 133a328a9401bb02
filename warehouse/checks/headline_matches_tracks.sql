-- The headline's request count is the sum over tracks, over offices and over countries.
SELECT h.as_of, h.n_requests, t.n, o.n, c.n
FROM hist.headline AS h
JOIN (SELECT as_of, sum(n_requests) AS n FROM hist.track_summary GROUP BY ALL) AS t USING (as_of)
JOIN (SELECT as_of, sum(n_requests) AS n FROM hist.office_routing GROUP BY ALL) AS o USING (as_of)
LEFT JOIN (SELECT as_of, sum(n_requests) AS n FROM hist.country_summary GROUP BY ALL) AS c USING (as_of)
WHERE h.n_requests <> t.n OR h.n_requests <> o.n OR h.n_requests <> coalesce(c.n, 0)
   OR h.n_countries <> (SELECT count(*) FROM hist.country_summary AS x WHERE x.as_of = h.as_of);
