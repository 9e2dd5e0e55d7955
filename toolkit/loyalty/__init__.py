"""Step 04, loyalty: what keeps clients. The repeat curve with censoring and the gaps
between visits (``curve``), the visit after which a client is loyal (``threshold``),
loyalty stages, their return intervals and LTV (``intervals``), cross-penetration between
business lines (``cross``) and dependence on individual specialists (``staff``);
``repeat`` assembles the metrics part. It runs before the barriers, which read its
artifacts."""
