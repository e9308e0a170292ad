"""Rules for `migrate`: v1 files converted, and v1 files that cannot be converted safely;
and for what `migrate --without-hash`, `import` and `add` write without being able to
finish it (M005) or leave out (M006).

The conversion rules are errors: a converted file must be reviewed before it is
committed (a fixer stops the commit), and a file that cannot be converted is left
untouched. M006 is a warning: the rest of the catalog was imported.
"""

from __future__ import annotations

from repo_tools.findings import Rule, Severity

E = Severity.ERROR

CONVERTED = Rule(
    "M001", "v1-converted", E,
    "The file was in the legacy v1 format and was converted to v2 (with --check: would be).",
    "Review the rewritten file and stage it (`git add`); after --check, run "
    "`repo-tools migrate FILE` to convert it.",
)
MISSING_FIELD = Rule(
    "M002", "v1-missing-field", E,
    "A v1 entry lacks a field that v2 requires; the file was left untouched.",
    "Add the field to the v1 entry (repo-tools does not invent a version, provider or hash), "
    "then run `repo-tools migrate` again.",
)
BAD_VALUE = Rule(
    "M003", "v1-bad-value", E,
    "A v1 value cannot become a valid v2 value (a hash that is not SHA-256, a version that is "
    "not SemVer, an unsafe cache path, a wrong type); the file was left untouched.",
    "Correct the value in the v1 file as the message says, then run `repo-tools migrate` again.",
)
NO_PLACE = Rule(
    "M004", "v1-no-place", E,
    "A v1 key has no place in v2 without overwriting other data; the file was left untouched.",
    "Move, rename or merge the key by hand as the message says, then run `repo-tools migrate` "
    "again.",
)

WITHOUT_SHA256 = Rule(
    "M005", "written-without-sha256", E,
    "An entry was written without `download.sha256` (by `migrate --without-hash`, `import` "
    "or `add`) because its source has no usable SHA-256: only an MD5, or no hash at all.",
    "Run the command the message names (`repo-tools probe --hash --write FILE`): it "
    "downloads the file once and fills in its digest.",
)
NOT_IMPORTED = Rule(
    "M006", "not-imported", Severity.WARNING,
    "An entry of the catalog being imported cannot become a v2 entry (it has no download "
    "URL, or is not an object); it was left out and the rest imported.",
    "Add the model by hand (`repo-tools add URL`) if it is needed.",
)

RULES: tuple[Rule, ...] = (CONVERTED, MISSING_FIELD, BAD_VALUE, NO_PLACE, WITHOUT_SHA256,
                           NOT_IMPORTED)
