"""The git remote source against real bare repositories (file:// URLs, and over HTTP
through a real `git http-backend`), with a planted token that must appear nowhere: not in
argv, logs, results, errors or the cache, and never at another origin."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from repo_tools.client import ClientConfig, ConfigClient, GitSource
from repo_tools.client.sources import (
    TOKEN_VARIABLE,
    FetchContext,
    basic_credentials,
    git_environment,
)
from tests.support.client_helpers import (
    FAST,
    Lab,
    capture,
    client_log,
    names,
)
from tests.support.githttp import GitHttpServer, http_backend
from tests.support.helpers import GIT_ENV, git, git_env
from tests.support.release_helpers import commit_all

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
        f'test -n "${TOKEN_VARIABLE}" && echo token >> "{lab.root / "env.log"}"\n'
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
    # a file:// URL cannot use a token, so git is not given it (HTTP: the tests below)
    assert not (lab.root / "env.log").exists()
    assert TOKEN not in repr(source) and TOKEN not in str(result)
    assert_no_token(lab, caplog)


def credential_fill(env: dict[str, str], url: str) -> str | None:
    """The password the real git would use for url, or None when it has none."""
    proc = subprocess.run(["git", "credential", "fill"], input=f"url={url}\n\n", env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        assert "terminal prompts disabled" in proc.stderr, proc.stderr
        return None
    fields = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    assert fields["username"] == "x-access-token"
    return fields["password"]


def test_the_token_is_scoped_to_the_repository_origin() -> None:
    url = "https://git.example.org/org/config.git"
    base = {k: v for k, v in git_env().items() if "ASKPASS" not in k}
    # the user's own settings: a helper that would answer (and store) anything, and
    # useHttpPath; both are there before the client's entries, which must win
    base.update({"GIT_CONFIG_COUNT": "2",
                 "GIT_CONFIG_KEY_0": "credential.helper",
                 "GIT_CONFIG_VALUE_0": "!f() { echo username=u; echo password=users-own; }; f",
                 "GIT_CONFIG_KEY_1": "credential.useHttpPath", "GIT_CONFIG_VALUE_1": "true"})
    env = git_environment({**base, "GIT_TRACE_CURL": "1"}, url, TOKEN)
    assert env["GIT_CONFIG_COUNT"] == "4" and env["GIT_CONFIG_KEY_0"] == "credential.helper"
    assert "GIT_TRACE_CURL" not in env
    # ps shows argv: the helper snippet (run as `sh -c <snippet>`) names the variable only
    assert [k for k, v in env.items() if TOKEN in v or basic_credentials(TOKEN) in v] == [
        TOKEN_VARIABLE]
    assert credential_fill(env, url) == TOKEN
    assert credential_fill(env, "https://git.example.org/org/renamed.git") == TOKEN
    for elsewhere in ("https://cdn.example.net/blob", "http://git.example.org/org/config.git",
                      "https://git.example.org:8443/org/config.git",
                      "https://git.example.org.evil.net/org/config.git",
                      "https://evil.net/git.example.org/org/config.git"):
        assert credential_fill(env, elsewhere) is None, elsewhere
    for no_use in ("ssh://git@git.example.org/org/config.git", "file:///srv/config.git"):
        assert TOKEN_VARIABLE not in git_environment(base, no_use, TOKEN)


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
    # With the client's choice (as `load()` passes it), only that config version is read.
    chosen = source.fetch(FetchContext([], {}, dt.datetime.now(dt.UTC), client.config,
                                       choose=client.choose))
    assert sorted(chosen.files) == ["index.json", "versions/v1.1.0/models/acme.json"]


def test_a_signed_release_in_git_is_read_for_the_chosen_config_version_only(
        git_world: Lab) -> None:
    lab = git_world
    source = GitSource(bare_url(lab), "main", "releases")
    client = git_client(lab, source)
    fetched = source.fetch(FetchContext(client.allowed_signers, {}, dt.datetime.now(dt.UTC),
                                        client.config, choose=client.choose))
    assert sorted(fetched.files) == ["index.json", "versions/v1.1.0/models/acme.json"]
    assert list(fetched.archives) == ["v1.1.0"] and fetched.held == ()
    # Held already (its archive's hash): not read from the clone again.
    held = source.fetch(FetchContext(client.allowed_signers, {}, dt.datetime.now(dt.UTC),
                                     client.config, choose=client.choose,
                                     held=dict(fetched.archives)))
    assert sorted(held.files) == ["index.json"] and held.held == ("v1.1.0",)


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
    {"repo_url": "https://git.example.org/x.git", "auth_token": f"{TOKEN}\nhost=evil.net"},
])
def test_unsafe_git_sources_are_refused(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError) as raised:
        GitSource(**kwargs)
    assert TOKEN not in str(raised.value)


def test_ssh_logins_are_not_credentials() -> None:
    for url in ("ssh://git@github.com/org/config.git", "git@github.com:org/config.git"):
        assert GitSource(url).describe().startswith(url)


WATCHED = (TOKEN, basic_credentials(TOKEN))


@pytest.fixture(scope="session")
def backend() -> Path:
    found = http_backend()
    if found is None:
        pytest.skip("git-http-backend is not installed")
    return found


@pytest.fixture
def http_lab(backend: Path, git_world: Lab, monkeypatch: pytest.MonkeyPatch) -> Lab:
    """git_world, whose user config has a credential helper that would store every
    credential git approves in a file under the lab (so assert_no_token finds it)."""
    user_config = git_world.root / "user.gitconfig"
    user_config.write_text(
        f'[credential]\n\thelper = store --file "{git_world.root / "stored"}"\n'
        "\tuseHttpPath = true\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(user_config))
    return git_world


def serve(lab: Lab, backend: Path, token: str | None) -> GitHttpServer:
    return GitHttpServer(lab.root, backend, token=token, watch=WATCHED)


def assert_nowhere(lab: Lab, caplog: pytest.LogCaptureFixture, *servers: GitHttpServer) -> None:
    for server in servers:
        if Path("/proc/self/cmdline").exists():
            assert server.argv_scans > 0  # the scan saw the client's git processes
        assert server.argv_hits == []
    assert not (lab.root / "stored").exists()
    assert_no_token(lab, caplog, (lab.root / "argv.log").read_text())


def test_a_private_repository_over_http_gets_the_token(
        http_lab: Lab, backend: Path, caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    lab = http_lab
    with serve(lab, backend, TOKEN) as server:
        url = server.url("/bare.git")
        result = git_client(lab, GitSource(url, "main", "releases", auth_token=TOKEN)).load()
        assert result.source == "remote", result.reasons
        assert result.origin is not None and result.origin.bundle_version == 1
        # git sent it only after the server asked (401), then on every later request
        sent = [r.authorization for r in server.requests]
        assert sent[0] is None and set(sent[1:]) == {server.expected}
        assert any(r.method == "POST" for r in server.requests[1:])
        assert (lab.root / "env.log").read_text().split() == ["token"]  # in git's env only
        assert_nowhere(lab, caplog, server)


@pytest.mark.parametrize("token", [None, "ghp_WRONG" + secrets.token_hex(8)],
                         ids=["no-token", "wrong-token"])  # the token is new on every run
def test_a_refused_token_is_a_clean_failure(http_lab: Lab, backend: Path, token: str | None,
                                            caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    lab = http_lab
    with serve(lab, backend, TOKEN) as server:
        source = GitSource(server.url("/bare.git"), "main", "releases", auth_token=token)
        result = git_client(lab, source).load()
        assert result.source == "defaults"
        assert result.reasons[0].rule == "C001"
        assert "git clone of" in result.reasons[0].message
        assert_nowhere(lab, caplog, server)
        if token is not None:
            assert token not in client_log(caplog) and token not in str(result)


@pytest.mark.parametrize("origin_needs_the_token", [False, True])
def test_a_redirect_to_another_origin_never_gets_the_token(
        http_lab: Lab, backend: Path, origin_needs_the_token: bool,
        caplog: pytest.LogCaptureFixture) -> None:
    """The repository's origin answers info/refs with a redirect to another port (another
    origin), which serves the repository to anyone and records what it is sent."""
    capture(caplog)
    lab = http_lab
    token = TOKEN if origin_needs_the_token else None
    with serve(lab, backend, token) as origin, serve(lab, backend, None) as other:
        origin.redirect_to = other.url("")
        source = GitSource(origin.url("/bare.git"), "main", "releases", auth_token=TOKEN)
        result = git_client(lab, source).load()
        assert result.source == "remote", result.reasons  # the public copy is signed
        assert other.requests, "git did not follow the redirect"
        assert other.authorizations() == []
        for request in other.requests:
            seen = repr(request)
            assert TOKEN not in seen and basic_credentials(TOKEN) not in seen
        assert_nowhere(lab, caplog, origin, other)


def test_a_redirect_to_an_origin_that_asks_for_credentials_fails_cleanly(
        http_lab: Lab, backend: Path, caplog: pytest.LogCaptureFixture) -> None:
    capture(caplog)
    lab = http_lab
    with serve(lab, backend, None) as origin, serve(lab, backend, TOKEN) as other:
        origin.redirect_to = other.url("")
        source = GitSource(origin.url("/bare.git"), "main", "releases", auth_token=TOKEN)
        result = git_client(lab, source).load()
        assert result.source == "defaults"
        assert result.reasons[0].rule == "C001"
        assert other.requests and other.authorizations() == []
        # git asked for the other origin's credentials and had none to give
        assert f"could not read Username for '{other.url('')}" in result.reasons[0].message
        assert_nowhere(lab, caplog, origin, other)
