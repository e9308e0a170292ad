"""The git remote source against real bare repositories (file:// URLs), with a planted
token that must appear nowhere: not in argv, logs, results, errors or the cache."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import subprocess

import pytest

from repo_tools.client import ClientConfig, ConfigClient, GitSource
from repo_tools.client.sources import FetchContext, basic_credentials, git_environment
from tests.client_helpers import (
    FAST,
    Lab,
    capture,
    client_log,
    names,
)
from tests.helpers import GIT_ENV, git
from tests.release_helpers import commit_all

TOKEN = f"ghp_PLANTED{secrets.token_hex(8)}"
REAL_GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(REAL_GIT is None, reason="git is not installed")


@pytest.fixture
def git_world(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> Lab:
    """The lab's config repo, with a committed release in releases/, pushed to a bare repo;
    and a `git` on PATH that records its argv before running the real one."""
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    lab.standard_repo()
    lab.out = lab.repo / "releases"
    lab.release()
    git(lab.root, "init", "-q", "-b", "main", str(lab.repo))
    commit_all(lab.repo, "config and release 1")
    subprocess.run(["git", "clone", "-q", "--bare", str(lab.repo), str(lab.root / "bare.git")],
                   check=True, capture_output=True)
    shim = lab.root / "shim"
    shim.mkdir()
    (shim / "git").write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$*" >> "{lab.root / "argv.log"}"\n'
        'case "$GIT_CONFIG_VALUE_0" in "Authorization: Basic "*) '
        f'echo header >> "{lab.root / "env.log"}";; esac\n'
        f'exec "{REAL_GIT}" "$@"\n')
    (shim / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")
    return lab


def bare_url(lab: Lab) -> str:
    return (lab.root / "bare.git").as_uri()


def git_client(lab: Lab, source: GitSource, config: ClientConfig = FAST,
               version: str = "1.7.0") -> ConfigClient:
    return ConfigClient(version, "linux", source=source, allowed_signers=lab.allowed,
                        cache_dir=lab.root / "cache", config=config)


def everything_written(lab: Lab) -> str:
    texts = []
    for path in lab.root.rglob("*"):
        if path.is_file() and "bare.git" not in path.parts and ".git" not in path.parts:
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(texts)


def assert_no_token(lab: Lab, caplog: pytest.LogCaptureFixture, *texts: str) -> None:
    shown = [client_log(caplog), caplog.text, *texts, everything_written(lab)]
    for text in shown:
        assert TOKEN not in text
        assert basic_credentials(TOKEN) not in text


def test_signed_release_folder_in_git(git_world: Lab, caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    lab = git_world
    source = GitSource(bare_url(lab), "main", "releases", auth_token=TOKEN)
    result = git_client(lab, source).load()
    assert result.source == "remote", result.reasons
    assert result.config_version == "v1.1.0" and "tiny" in names(result.models)
    assert result.origin is not None and result.origin.kind == "git"
    assert result.origin.bundle_version == 1 and result.origin.signed
    argv = (lab.root / "argv.log").read_text()
    assert "clone" in argv and "--depth 1" in argv and "--branch main" in argv
    assert (lab.root / "env.log").read_text().split() == ["header"]  # the token reached git
    assert TOKEN not in repr(source) and TOKEN not in str(result)
    assert_no_token(lab, caplog)


def test_the_header_is_scoped_to_the_repository_url() -> None:
    url = "https://git.example.org/org/config.git"
    env = git_environment({**os.environ, "GIT_CONFIG_COUNT": "1",
                           "GIT_CONFIG_KEY_0": "user.name", "GIT_CONFIG_VALUE_0": "x"},
                          url, TOKEN)
    assert env["GIT_CONFIG_COUNT"] == "2" and env["GIT_CONFIG_KEY_0"] == "user.name"
    ask = ["git", "config", "--get-urlmatch", "http.extraheader"]
    here = subprocess.run([*ask, url], env=env, capture_output=True, text=True)
    assert here.stdout.strip() == f"Authorization: Basic {basic_credentials(TOKEN)}"
    elsewhere = subprocess.run([*ask, "https://cdn.example.net/blob"], env=env,
                               capture_output=True, text=True)
    assert elsewhere.stdout.strip() == ""


def test_a_failing_clone_falls_back_and_never_shows_the_token(
        git_world: Lab, caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    lab = git_world
    good = git_client(lab, GitSource(bare_url(lab), "main", "releases", auth_token=TOKEN))
    assert good.load().source == "remote"
    missing = GitSource(bare_url(lab), "no-such-branch", "releases", auth_token=TOKEN)
    caplog.clear()
    result = git_client(lab, missing).load()
    assert result.source == "last-known-good"
    assert [r.rule for r in result.reasons] == ["C001"]
    assert "no-such-branch" in result.reasons[0].message  # git's own words, scrubbed
    assert "using the last known good config" in client_log(caplog)
    argv = (lab.root / "argv.log").read_text()
    assert_no_token(lab, caplog, argv, str(result), repr(missing))


def test_an_unsigned_checkout_needs_the_opt_in(git_world: Lab,
                                               caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    lab = git_world
    source = GitSource.from_json({"repo_url": bare_url(lab), "branch": "main",
                                  "auth_token": TOKEN})
    refused = git_client(lab, source).load()
    assert refused.source == "defaults"
    assert [r.rule for r in refused.reasons] == ["C002", "C007"]
    assert "allow_unsigned_git" in refused.reasons[0].message
    accepted = git_client(lab, source, ClientConfig(allow_unsigned_git=True)).load()
    assert accepted.source == "remote" and accepted.config_version == "v1.1.0"
    assert accepted.origin is not None and not accepted.origin.signed
    assert_no_token(lab, caplog)


def test_a_symlink_in_an_unsigned_checkout_is_not_followed(git_world: Lab) -> None:
    lab = git_world
    secret = lab.root / "private.json"
    secret.write_text('{"schema_version": "2.0", "models": []}')
    link = lab.repo / "versions" / "v1.1.0" / "models" / "leak.json"
    link.symlink_to(secret)
    commit_all(lab.repo, "add a symlink")
    git(lab.repo, "push", "-q", str(lab.root / "bare.git"), "main")
    source = GitSource(bare_url(lab), "main")
    client = git_client(lab, source, ClientConfig(allow_unsigned_git=True))
    fetched = source.fetch(FetchContext([], {}, dt.datetime.now(dt.UTC), client.config))
    assert "versions/v1.1.0/models/leak.json" not in fetched.files
    assert "versions/v1.1.0/models/acme.json" in fetched.files


@pytest.mark.parametrize("data", [
    {"branch": "main"},
    {"repo_url": "https://git.example.org/x.git", "token": TOKEN},
    {"repo_url": "https://git.example.org/x.git", "auth_token": 7},
])
def test_an_invalid_source_object_is_refused_without_the_token(data: dict[str, object]) -> None:
    with pytest.raises(ValueError) as raised:
        GitSource.from_json(data)
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize("kwargs", [
    {"repo_url": f"https://user:{TOKEN}@git.example.org/x.git"},
    {"repo_url": f"https://git.example.org/x.git?private_token={TOKEN}"},
    {"repo_url": f"https://git.example.org/x.git#{TOKEN}"},
    {"repo_url": "https://git.example.org/x.git", "config_path": "../up"},
    {"repo_url": "https://git.example.org/x.git", "branch": "--upload-pack=evil"},
])
def test_unsafe_git_sources_are_refused(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError) as raised:
        GitSource(**kwargs)
    assert TOKEN not in str(raised.value)


def test_ssh_logins_are_not_credentials() -> None:
    for url in ("ssh://git@github.com/org/config.git", "git@github.com:org/config.git"):
        assert GitSource(url).describe().startswith(url)
