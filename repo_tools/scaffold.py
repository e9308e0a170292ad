"""`init`: render the bundled cookiecutter template into a new config repository.

The template ships inside the package (`repo_tools/template/`, also reachable as
`template-repo/` at the project root for `cookiecutter --directory template-repo`), so an
installed repo-tools can create repos without a checkout of its source.
"""

from __future__ import annotations

import json
import logging
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
    # cookiecutter logs a hook failure with a traceback; the hook has already said why.
    logger = logging.getLogger("cookiecutter")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    try:
        created = cookiecutter(
            str(template_dir()), no_input=not interactive, extra_context=extra,
            output_dir=str(target.parent), overwrite_if_exists=target.is_dir(),
            accept_hooks=True)
    except FailedHookException as exc:
        raise TemplateError(f"the template refused these values (see the message above): "
                            f"{exc}") from exc
    except ValueError as exc:  # e.g. `upload_sarif=maybe`: not a yes/no answer
        raise TemplateError(f"bad template value: {exc}") from exc
    except (CookiecutterException, OSError) as exc:
        raise TemplateError(f"cannot render the template: {exc}") from exc
    return Path(created)
