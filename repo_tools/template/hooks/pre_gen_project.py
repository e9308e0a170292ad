"""Refuse template values that would render a config repo that fails its own checks.

Runs before cookiecutter writes anything; exiting non-zero aborts the render. cookiecutter
renders this file to a temporary script and runs it with its own Python, which for plain
`cookiecutter` users has no repo-tools installed: so the rules it needs are copied here,
exactly as strict as repo-tools' own, or a value it lets through would fail `lint`.
"""

from __future__ import annotations

import json
import re
import sys

# Rendered by cookiecutter; `tojson` escapes quotes, so no value can end the string early.
CONTEXT = json.loads(r"""{{ cookiecutter | tojson }}""")

# A copy of repo_tools.versions.SEMVER_RE (a test keeps them equal).
SEMVER = re.compile(
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
# The v2 schema's `name` (no C0 or C1 control) plus validate's V010 (not blank); its other
# V010, no lone surrogate, is checked for every value in problems().
MODEL_NAME = r"(?=.*\S)[^\x00-\x1f\x7f-\x9f]+"
CHECKS: dict[str, tuple[str, str]] = {
    "repo_slug": (r"[A-Za-z0-9][A-Za-z0-9._-]*", "a directory name: letters, digits, . _ -"),
    "provider": (r"[a-z0-9][a-z0-9._-]*",
                 "lower-case letters, digits, . _ - (it names the file <provider>.json)"),
    "example_model": (MODEL_NAME, "a name that is not blank and has no control characters "
                                  "(U+0000-U+001F, U+007F-U+009F)"),
    "example_url": (r"https://[^\s/?#]+/\S*", "an https:// URL without spaces"),
    "example_sha256": (r"[0-9a-f]{64}", "64 lower-case hexadecimal digits"),
    # It stands unquoted in YAML and inside double quotes in a workflow: no spaces,
    # quotes, backslashes or GitHub expressions. A github.com repo is also the Action.
    "toolkit_repo": (r"(?:https?|ssh|git|file)://[A-Za-z0-9._~/:@%+=-]+"
                     r"|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/%+=-]+"
                     r"|/[A-Za-z0-9._~/%+=@-]*",
                     "a git URL (https://, ssh://, git://, file://, or user@host:path) or an "
                     "absolute path, without spaces or quotes"),
    "toolkit_rev": (r"[A-Za-z0-9][A-Za-z0-9._/-]*", "a tag or commit of repo-tools"),
    "signing_key_secret": (r"[A-Z_][A-Z0-9_]*", "a secret name: A-Z, 0-9 and _"),
    # It stands unquoted in allowed_signers and in the release workflow's shell script.
    "release_principal": (r"[A-Za-z0-9][A-Za-z0-9._+@-]*",
                          "a principal of letters, digits and . _ + @ -, e.g. "
                          "release@example.org"),
}


# On github.com the workflows use the toolkit repo as an Action: OWNER/NAME exactly.
GITHUB_REPO = r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?(?:\.git)?"


def problems(context: dict[str, object]) -> list[str]:
    found = []
    toolkit = str(context.get("toolkit_repo", ""))
    if toolkit.startswith("https://github.com/") and not re.fullmatch(GITHUB_REPO, toolkit):
        found.append(f"toolkit_repo = {toolkit!r} must be https://github.com/OWNER/NAME (the "
                     "workflows use a github.com toolkit as an Action)")
    for key, value in context.items():
        # A lone surrogate (an argument that is not UTF-8) cannot be written to any file:
        # cookiecutter would fail half-way through writing the repo.
        match = re.search(r"[\ud800-\udfff]", value) if isinstance(value, str) else None
        if match:
            found.append(f"{key} = {value!r} contains U+{ord(match.group()):04X}, which is not "
                         "a character (a byte that is not UTF-8?)")
    for key in ("initial_version", "min_client_version"):
        value = str(context.get(key, ""))
        if not SEMVER.fullmatch(value):
            found.append(f"{key} = {value!r} is not SemVer MAJOR.MINOR.PATCH[-PRERELEASE]"
                         "[+BUILD] (no 'v' prefix, no leading zeros)")
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
