"""Step 01, the data audit: read the client's exports (CSV in any encoding, xlsx, parquet),
map their columns onto the canonical tables, quarantine every bad row with its reason, and
keep personal data out (``readers`` -> ``parsing`` -> ``load``; ``schemas`` checks the
result; ``privacy`` drops, scrubs and pseudonymises). ``step.run`` saves the tables."""
