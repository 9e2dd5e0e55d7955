"""CJM/PJM consulting toolkit: from a client's exports to a journey-mapping report."""

__version__ = "0.1.0"
