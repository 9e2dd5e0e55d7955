"""Step 03, stage mapping: the journey map per segment (``journey``: every stage x every
map row, with its evidence), the emotion curve (``emotions``), choice factors (``factors``)
and the lead funnel by brand and source (``funnel``). The stage model itself lives on the
ground floor (``toolkit.core.stages``)."""
