"""The ground floor: what every step shares. The case file (``config``), the canonical
table contract (``contract``), the stage model (``stages``), the sales history in the
engine (``sales``), statistics (``stats``), number and date formatting (``fmt``), the
word catalog (``words``), the run folder (``run_folder``), figures and deterministic
Office files. Nothing here imports a step package."""
