"""One module per pipeline step: compute with the analysis functions, save the
artifacts, metrics part and figures to the run folder, and return what the
notebook shows. The notebooks call these; tests can call them without Jupyter."""
