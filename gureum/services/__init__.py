"""One package per AWS service; each has provider.py with a `Provider` class."""
