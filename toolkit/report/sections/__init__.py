"""The report's sections, one module each, in the order the report reads: each turns the run
folder's metrics and artifacts into the template variables of its section."""
