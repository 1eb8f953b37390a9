"""gureum (구름): a local AWS cloud in one process."""

__version__ = "0.1.0"
