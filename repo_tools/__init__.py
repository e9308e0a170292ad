"""repo-tools: the maintainer's toolkit for remote model-configuration repositories."""

__version__ = "0.1.0"
