"""CJM/PJM consulting toolkit: from a client's exports to a journey-mapping report."""

import warnings

__version__ = "0.1.0"

# pandera imports pyspark.pandas whenever pyspark is installed (the warehouse tests install it), and
# PySpark then warns on stderr that it does not support pandas 3. The toolkit never uses pandas-on-
# Spark; the warning would only reach a consultant's terminal and notebooks as noise.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
