"""bzmine's version (pyproject.toml carries the same number): a leaf module, so every layer may name it."""

__version__ = "0.1.0"
