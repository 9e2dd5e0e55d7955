"""The ``cjm`` command: ``main`` parses the arguments; ``run`` executes the notebooks."""
