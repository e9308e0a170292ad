"""`add`: one model entry from its download URL.

The pure part turns a URL and the maintainer's choices into an entry: Hugging Face URLs
normalised (`/blob/` -> `/resolve/`, a repository URL plus a file name), provider and
model named from the URL when not given, and the cachePath derived. The digest and size
come from probe's check of the URL (`repo_tools.probe.single`): the host's
X-Linked-Etag/X-Linked-Size when it states them, else the body streamed through the
hasher. The entry is written by `repo_tools.additions`, as `import` writes its entries.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from repo_tools.additions import FileAddition, existing_identities, plan_addition
from repo_tools.findings import Finding, RuleError, Severity, finding
from repo_tools.probe.targets import url_problem
from repo_tools.rules import core
from repo_tools.rules import probe as probe_rules
from repo_tools.urls import HF_HOSTS, huggingface_resolve_url

if TYPE_CHECKING:
    from repo_tools.net import Credentials
    from repo_tools.probe import ProbeOptions

DEFAULT_VERSION = "1.0.0"
# /ORG/REPO/resolve/REVISION/PATH: Hugging Face's layout, which its mirrors share.
_RESOLVE = re.compile(r"^/([^/]+)/([^/]+)/resolve/[^/]+/(.+)$")
_REPO_PAGE = re.compile(r"^/([^/]+)/([^/]+?)(?:/tree/([^/]+))?/?$")
_UNSAFE = re.compile(r"[\x00-\x1f\\]")

_SHA256_SOURCE = {
    "host": "the host's X-Linked-Etag (no download)",
    "cache": "the hash cache",
    "downloaded": "downloading and hashing the file",
}


class AddRefused(RuleError):
    """The URL or the options cannot give an entry; nothing was written."""


@dataclasses.dataclass(frozen=True, slots=True)
class AddRequest:
    url: str
    config_version: str
    provider: str | None = None
    model: str | None = None
    version: str = DEFAULT_VERSION
    ranking: int = 0
    min_client: str | None = None
    max_client: str | None = None
    platforms: tuple[str, ...] = ()
    file: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class UrlNames:
    provider: str
    model: str
    cache_path: str


def download_url(url: str, file: str | None = None) -> str:
    """The URL to download: trimmed, a Hugging Face `/blob/` page turned into its
    `/resolve/` file, and `huggingface.co/ORG/REPO[/tree/REV]` plus `file` into the file's
    `/resolve/` URL."""
    url = url.strip()
    problem = url_problem(url)
    if problem is not None:
        raise AddRefused(core.BAD_URL, f"{problem}: {_shown(url)}")
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        # The URL is written into a file that is published: no credentials in it.
        raise AddRefused(core.BAD_URL, f"{_shown(url)} carries credentials, which would be "
                         "published with the entry; give the token in REPO_TOOLS_TOKENS")
    if file is not None:
        page = _REPO_PAGE.match(parts.path)
        if (parts.hostname or "").lower() not in HF_HOSTS or page is None:
            raise AddRefused(core.BAD_URL, "--file goes with a Hugging Face repository URL "
                             f"(https://huggingface.co/ORG/REPO), not {_shown(url)}")
        org, repo, revision = page.group(1), page.group(2), page.group(3) or "main"
        name = file.strip().lstrip("/")
        return urlunsplit(("https", "huggingface.co", f"/{org}/{repo}/resolve/{revision}/{name}",
                           "", ""))
    if (parts.hostname or "").lower() in HF_HOSTS and _REPO_PAGE.match(parts.path):
        raise AddRefused(core.BAD_URL, f"{_shown(url)} is a Hugging Face repository, not a file; "
                         "name the file with --file NAME")
    return huggingface_resolve_url(url) or url


def _shown(url: str) -> str:
    from repo_tools.net.transport import redact_url

    return redact_url(url)


def names_from_url(url: str) -> UrlNames:
    """Provider, model and cachePath as the URL suggests them.

    A `/ORG/REPO/resolve/REV/PATH` URL gives provider ORG and cachePath ORG/REPO/PATH (two
    repositories of one organisation often hold files of the same name); any other gives
    the host and host/FILE. The model is the file name without its extension.
    """
    parts = urlsplit(url)
    path = unquote(parts.path)
    match = _RESOLVE.match(path)
    if match:
        provider, repo, inner = match.groups()
        cache_path = f"{provider}/{repo}/{inner}"
    else:
        host = (parts.hostname or "").lower().removeprefix("www.")
        provider = host
        inner = posixpath.basename(path.rstrip("/")) or "download"
        cache_path = f"{host}/{inner}"
    stem = posixpath.basename(inner)
    model = stem.rsplit(".", 1)[0] if "." in stem.strip(".") else stem
    return UrlNames(provider, model or stem, _UNSAFE.sub("_", cache_path))


def build_entry(request: AddRequest, url: str, sha256: str | None,
                size: int | None) -> dict[str, Any]:
    """The v2 entry, keys in the schema's order."""
    names = names_from_url(url)
    download: dict[str, Any] = {"url": url}
    if sha256 is not None:
        download["sha256"] = sha256
    download["cachePath"] = names.cache_path
    if size is not None:
        download["size"] = size
    entry: dict[str, Any] = {
        "model": request.model if request.model is not None else names.model,
        "provider": request.provider if request.provider is not None else names.provider,
        "version": request.version,
        "ranking": request.ranking,
        "download": download,
    }
    compatibility: dict[str, Any] = {}
    if request.min_client is not None:
        compatibility["min_client_version"] = request.min_client
    if request.max_client is not None:
        compatibility["max_client_version"] = request.max_client
    if request.platforms:
        compatibility["supported_platforms"] = list(request.platforms)
    if compatibility:
        entry["compatibility"] = compatibility
    return entry


@dataclasses.dataclass(slots=True)
class AddResult:
    entry: dict[str, Any] | None
    plan: FileAddition | None
    findings: list[Finding]
    requests: int = 0
    sha256_source: str = ""

    @property
    def added(self) -> bool:
        return self.plan is not None and self.plan.new_text is not None


def add_model(repo: Path, request: AddRequest, options: ProbeOptions,
              credentials: Credentials) -> AddResult:
    """Probe the URL and plan the entry's addition (nothing is written: see
    `additions.write_addition`)."""
    from repo_tools.additions import model_file_path, provider_file_problem
    from repo_tools.probe.single import probe_url
    from repo_tools.repo import display_path

    try:
        url = download_url(request.url, request.file)
    except AddRefused as exc:
        return AddResult(None, None, [exc.as_finding("<url>")])
    probed = probe_url(url, options, credentials)
    outcome = probed.outcome
    problem = _probe_problem(url, outcome)
    if problem is not None:
        return AddResult(None, None, [problem], probed.requests)
    entry = build_entry(request, url, outcome.sha256, probed.size)
    problem_name = provider_file_problem(str(entry["provider"]))
    if problem_name is not None:
        return AddResult(entry, None, [finding(
            core.BAD_NAME, "<provider>", f"provider {entry['provider']!r} {problem_name}, so it "
            "cannot name its model file; give another with --provider")], probed.requests)
    path = model_file_path(repo, request.config_version, str(entry["provider"]))
    display = display_path(path, Path.cwd())
    others = existing_identities(repo, request.config_version, skip=(path,))
    plan = plan_addition(path, display, [entry], others)
    return AddResult(entry, plan, plan.findings, probed.requests,
                     _SHA256_SOURCE.get(outcome.sha256_source or "", ""))


def _probe_problem(url: str, outcome: Any) -> Finding | None:
    from repo_tools.net.transport import redact_url

    shown = redact_url(url)
    if outcome.failure is not None:
        rule, message = outcome.failure
        return finding(rule, "<url>", f"{shown}: {message}")
    if outcome.html:
        return finding(probe_rules.HTML_RESPONSE, "<url>",
                       f"{shown} answers with an HTML page, not the file")
    if outcome.sha256 is None:
        return finding(probe_rules.TOO_LARGE, "<url>",
                       f"{shown} is larger than --max-size ({outcome.too_large}+ bytes), so "
                       "its sha256 could not be computed", severity=Severity.ERROR)
    return None

