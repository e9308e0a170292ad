"""`init`: render the bundled cookiecutter template into a new config repository.

The template ships inside the package (`repo_tools/template/`, also reachable as
`template-repo/` at the project root for `cookiecutter --directory template-repo`), so an
installed repo-tools can create repos without a checkout of its source.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from repo_tools import DISTRIBUTION

TEMPLATE_PACKAGE_DIR = "template"


class TemplateError(Exception):
    """The template could not be rendered (bad values, target in the way, no cookiecutter)."""


def template_dir() -> Path:
    """The cookiecutter template directory inside the installed package."""
    return Path(str(resources.files("repo_tools") / TEMPLATE_PACKAGE_DIR))


def template_variables() -> list[str]:
    """The variables a user may set: cookiecutter.json's keys that are not private."""
    data = json.loads((template_dir() / "cookiecutter.json").read_text("utf-8"))
    return [key for key in data if not key.startswith("_")]


def template_defaults() -> dict[str, object]:
    """cookiecutter.json's public variables and their defaults."""
    data = json.loads((template_dir() / "cookiecutter.json").read_text("utf-8"))
    return {key: value for key, value in data.items() if not key.startswith("_")}


# The one line of the pre-generation hook that cookiecutter fills in.
_HOOK_CONTEXT_LINE = 'CONTEXT = json.loads(r"""{{ cookiecutter | tojson }}""")'


def template_problems(context: Mapping[str, object]) -> list[str]:
    """What the template's pre-generation hook would refuse in these values, found in this
    process: the hook's own `problems()` (hooks/pre_gen_project.py, the one copy of those
    rules), so `init` can say it in its own words before cookiecutter runs anything."""
    hook = template_dir() / "hooks" / "pre_gen_project.py"
    source = hook.read_text("utf-8")
    if _HOOK_CONTEXT_LINE not in source:
        raise TemplateError(f"{hook} does not have the expected form")
    namespace: dict[str, object] = {"__name__": "repo_tools_template_hook"}
    exec(compile(source.replace(_HOOK_CONTEXT_LINE, "CONTEXT = {}"), str(hook), "exec"),
         namespace)
    problems = namespace["problems"]
    assert callable(problems)
    found: list[str] = problems(dict(context))
    return found


_SCP_LIKE = re.compile(r"([A-Za-z0-9._-]+@[A-Za-z0-9.-]+):(?!//)(.*)")


def toolkit_location(value: str, base: Path) -> str:
    """The toolkit repo as a URL that git, pre-commit, pip and the workflow auditors all
    read: a URL as it is; `user@host:path` as `ssh://user@host/path`, as forges read it
    (on a plain ssh server that path starts at the root: give `ssh://user@host/~/path`
    for one in the home directory); a local path (relative to `base`, or `~`) as a
    `file://` URL of its absolute path."""
    if "://" in value:
        return value
    scp = _SCP_LIKE.fullmatch(value)
    if scp:
        return f"ssh://{scp.group(1)}/{scp.group(2).lstrip('/')}"
    return (base / Path(value).expanduser()).resolve().as_uri()


def render_template(target: Path, context: Mapping[str, str], *,
                    interactive: bool = False) -> Path:
    """Render the template so that its root is `target`; returns the created directory.

    `context` overrides cookiecutter.json's defaults; `repo_slug` is forced to the target's
    name so the repo lands exactly at `target`. Refuses a target that is a non-empty
    directory or a file, and never leaves a half-rendered repo behind.
    """
    try:
        from cookiecutter.exceptions import (  # type: ignore[import-untyped]
            CookiecutterException,
            FailedHookException,
        )
        from cookiecutter.main import cookiecutter  # type: ignore[import-untyped]
    except ModuleNotFoundError as exc:
        raise TemplateError("`repo-tools init` needs cookiecutter, which the package "
                            f"installs only with its `template` extra: pip install "
                            f"'{DISTRIBUTION}[template]'") from exc
    known = template_variables()
    unknown = sorted(set(context) - set(known))
    if unknown:
        raise TemplateError(f"the template has no variable {', '.join(map(repr, unknown))}; "
                            f"it has: {', '.join(known)}")
    target = Path(target).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise TemplateError(f"{target} already exists and is not an empty directory")
    extra = {**context, "repo_slug": target.name}
    if not interactive:  # prompted values are checked by the hook itself
        found = template_problems({**template_defaults(), **extra})
        if found:
            raise TemplateError("the template refuses these values:\n  " + "\n  ".join(found))
    # cookiecutter logs a hook failure with a traceback; the hook has already said why.
    logger = logging.getLogger("cookiecutter")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    try:
        created = cookiecutter(
            str(template_dir()), no_input=not interactive, extra_context=extra,
            output_dir=str(target.parent), overwrite_if_exists=target.is_dir(),
            accept_hooks=True)
    except FailedHookException:  # only after prompts: the hook has said why on stderr
        raise TemplateError("the template refused the values given (see the lines above)"
                            ) from None
    except ValueError as exc:  # e.g. `upload_sarif=maybe`: not a yes/no answer
        raise TemplateError(f"bad template value: {exc}") from exc
    except (CookiecutterException, OSError) as exc:
        raise TemplateError(f"cannot render the template: {exc}") from exc
    return Path(created)
