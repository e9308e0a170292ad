"""repo-tools: the maintainer's toolkit for remote model-configuration repositories."""

__version__ = "0.1.0"

# The name to `pip install` (the command is `repo-tools`; the package index has an
# unrelated project of that name).
DISTRIBUTION = "model-config-tools"
