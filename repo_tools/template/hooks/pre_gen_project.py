"""Refuse template values that would render a config repo that fails its own checks.

Runs before cookiecutter writes anything; exiting non-zero aborts the render. This file is
standalone (plain `cookiecutter` users do not have repo-tools installed), so the few
rules it needs are restated here in their simplest form.
"""

from __future__ import annotations

import json
import re
import sys

# Rendered by cookiecutter; `tojson` escapes quotes, so no value can end the string early.
CONTEXT = json.loads(r"""{{ cookiecutter | tojson }}""")

SEMVER = re.compile(
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?"
)
CHECKS: dict[str, tuple[str, str]] = {
    "repo_slug": (r"[A-Za-z0-9][A-Za-z0-9._-]*", "a directory name: letters, digits, . _ -"),
    "provider": (r"[a-z0-9][a-z0-9._-]*",
                 "lower-case letters, digits, . _ - (it names the file <provider>.json)"),
    "example_model": (r"[^\x00-\x1f\x7f]+", "a name without control characters"),
    "example_url": (r"https://[^\s/?#]+/\S*", "an https:// URL without spaces"),
    "example_sha256": (r"[0-9a-f]{64}", "64 lower-case hexadecimal digits"),
    "toolkit_repo": (r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+",
                     "https://github.com/OWNER/NAME (the workflows use it as an Action)"),
    "toolkit_rev": (r"[A-Za-z0-9][A-Za-z0-9._/-]*", "a tag or commit of repo-tools"),
    "signing_key_secret": (r"[A-Z_][A-Z0-9_]*", "a secret name: A-Z, 0-9 and _"),
}


def problems(context: dict[str, object]) -> list[str]:
    found = []
    for key in ("initial_version", "min_client_version"):
        value = str(context.get(key, ""))
        if not SEMVER.fullmatch(value):
            found.append(f"{key} = {value!r} is not SemVer MAJOR.MINOR.PATCH (no 'v' prefix)")
    for key, (pattern, what) in CHECKS.items():
        value = str(context.get(key, ""))
        if not re.fullmatch(pattern, value):
            found.append(f"{key} = {value!r} must be {what}")
    return found


def main() -> int:
    found = problems(CONTEXT)
    for problem in found:
        print(f"repo-tools template: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
