"""What the steps share at run time: the step registry (which step needs and makes
what) and the notebook context (the case read from the run folder, the run folder)."""
