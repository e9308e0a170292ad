"""Rules of `lint` itself: its settings file, and the checks that only settings switch on."""

from __future__ import annotations

from repo_tools.findings import Rule, Severity

E, W = Severity.ERROR, Severity.WARNING

UNKNOWN_SETTING = Rule(
    "L001", "unknown-setting", E,
    "The settings have a key that repo-tools does not know (often a typo).",
    "Fix the spelling or remove the key; the docs' lint page lists every key.",
)
BAD_SETTING = Rule(
    "L002", "bad-setting-value", E,
    "A setting has a value of the wrong type, or names a rule, check or severity that does "
    "not exist.",
    "Change the value as the message says.",
)
INVALID_SETTINGS_FILE = Rule(
    "L003", "invalid-settings-file", E,
    "The settings file cannot be read or is not valid TOML.",
    "Fix the TOML syntax at the reported line; until then lint runs with default settings.",
)
UNKNOWN_PLATFORM = Rule(
    "L004", "unknown-platform", W,
    "A model's `supported_platforms` names a platform that is not in `known-platforms`.",
    "Fix the spelling, or add the platform to `known-platforms` in the settings.",
)
SHADOWED_SETTINGS = Rule(
    "L005", "shadowed-settings", W,
    "Both `.repo-tools.toml` and `[tool.repo-tools]` in `pyproject.toml` hold settings; "
    "only `.repo-tools.toml` is read.",
    "Keep the settings in one place and delete the other.",
)

RULES: tuple[Rule, ...] = (UNKNOWN_SETTING, BAD_SETTING, INVALID_SETTINGS_FILE, UNKNOWN_PLATFORM,
                           SHADOWED_SETTINGS)
