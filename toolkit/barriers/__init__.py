"""Step 05, barriers: what stops clients at each stage, ranked (``ranking``: share of the
people interviewed, severity, quotes, suggested actions) and what fixing each is worth a
year (``impact``: the stage's measured annual loss allocated across its barriers). Post-
purchase losses come from the loyalty step's artifacts."""
