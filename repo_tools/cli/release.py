"""`repo-tools release`, `verify` and `keygen`: publish signed releases and check them."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from repo_tools import DISTRIBUTION
from repo_tools.cli.common import (
    IOFailure,
    command_with_exit,
    emit,
    is_quiet,
    output_options,
    repo_option,
)
from repo_tools.findings import Finding, Severity, finding

if TYPE_CHECKING:  # cryptography stays unimported until a command runs
    from repo_tools.release.errors import VerificationError
    from repo_tools.release.manifest import Manifest
    from repo_tools.release.publish import PreparedRelease, PreviousRelease
    from repo_tools.release.sshsig import AllowedSigner

PASSPHRASE_ENV = "REPO_TOOLS_KEY_PASSPHRASE"
INDEX_PATH = "index.json"  # = repo_tools.release.manifest.INDEX_PATH, unimported until run


def _semver_option(ctx: click.Context, param: click.Parameter,
                   value: str | None) -> str | None:
    from repo_tools.versions import explain_semver, is_semver

    if value is not None and not is_semver(value):
        raise click.BadParameter(explain_semver(value))
    return value


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _say(fmt: str, lines: list[str]) -> None:
    """Progress and summaries: stdout for text output, stderr when stdout is a report;
    nothing with -q."""
    if is_quiet():
        return
    for line in lines:
        click.echo(line, err=fmt != "text")


def _passphrase(prompt: bool, what: str) -> str | None:
    if prompt:
        value: str = click.prompt(what, hide_input=True, default="", show_default=False,
                                  err=True)
        return value or None
    return os.environ.get(PASSPHRASE_ENV) or None


@click.command()
@repo_option
@click.option("--key", "key_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None,
              help="OpenSSH Ed25519 private key, required unless --dry-run (with --signer "
                   "ssh-keygen: a private key, or "
                   "a .pub whose private half is in ssh-agent).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Release folder: reads the previous manifest there, writes the new one.")
@click.option("--repository", "repository", default=None,
              help="Repository id in the manifest [default: the previous release's, else the "
                   "origin remote as host/owner/name, else the folder name].")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=30, show_default=True,
              help="Days from `created` until clients refuse the release.")
@click.option("--bundle-version", type=click.IntRange(1, 2**53 - 1), default=None,
              help="Version number [default: previous + 1]; must be above the previous.")
@click.option("--previous", default=None, metavar="URL|DIR|FILE",
              help="Where the previous release is published [default: --out].")
@click.option("--allow-removals", is_flag=True,
              help="Publish even if models that clients in range still get are removed.")
@click.option("--allow-shrink", is_flag=True,
              help="Publish even if clients with the default shrink guard would refuse it "
                   "(they drop more than half of the models they have).")
@click.option("--resign", is_flag=True,
              help="Publish the previous release's files again, with a new bundle_version, "
                   "created and expires (nothing is read from the work tree).")
@click.option("--allowed-signers", "allowed_signers", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The keys clients trust; the signature must verify against it "
                   "[default: allowed_signers in --repo, checked when it exists].")
@click.option("--created", default="auto", show_default=True, metavar="auto|now|EPOCH",
              help="The manifest's created time; auto = SOURCE_DATE_EPOCH, else the commit "
                   "time, else now.")
@click.option("--signer", type=click.Choice(["builtin", "ssh-keygen"]), default="builtin",
              show_default=True, help="Sign in-process, or delegate to `ssh-keygen -Y sign`.")
@click.option("--passphrase-prompt", is_flag=True,
              help=f"Ask for the key's passphrase (default: ${PASSPHRASE_ENV}, if set).")
@click.option("--probe", is_flag=True, help="Also run the network check (probe) first.")
@click.option("--dry-run", is_flag=True, help="Check, build and diff; sign and write nothing.")
@output_options
@command_with_exit
def release(repo: Path, key_path: Path | None, out: Path, repository: str | None, expires_days: int,
            bundle_version: int | None, previous: str | None, allow_removals: bool,
            allow_shrink: bool, resign: bool, allowed_signers: Path | None,
            created: str, signer: str, passphrase_prompt: bool, probe: bool, dry_run: bool,
            fmt: str, strict: bool, output: Path | None) -> int:
    """Check the repo, then publish a signed, versioned bundle of index.json and versions/.

    Refuses (exit 1) when the offline checks report errors, when the version would not
    go up, when models that clients in range still get are removed, when clients would
    refuse it (shrink guard), or when the repo's allowed_signers does not accept the key.
    With --resign, publishes the previous release's files again, freshly signed.
    """
    from repo_tools.lint import lint_repo
    from repo_tools.release import publish, signing
    from repo_tools.release.errors import ReleaseRefused, VerificationError
    from repo_tools.release.fetch import FetchError
    from repo_tools.rules import release as rules
    from repo_tools.settings import OFFLINE_CHECKS

    if not repo.is_dir():
        raise IOFailure(f"no such directory: {repo}")
    if key_path is None and not dry_run:
        raise click.UsageError("--key is required (only --dry-run can do without it)")
    trusted = _repo_signers(repo, allowed_signers)
    found: list[Finding] = []
    files = 0
    if not resign:  # --resign checks the content it signs again, below
        checks = (*OFFLINE_CHECKS, "probe") if probe else OFFLINE_CHECKS
        linted = lint_repo(repo, base=Path.cwd(), checks=checks)
        found, files = linted.findings, linted.files
        errors = sum(1 for f in linted.findings if f.severity is Severity.ERROR)
        if errors:
            refusal = finding(rules.LINT_ERRORS, str(repo), f"{errors} error(s) from the "
                              f"checks ({', '.join(linted.checks)}); nothing was published")
            return emit([*found, refusal], files, fmt=fmt, strict=strict, output=output)
    request = publish.ReleaseRequest(repo, out, repository, expires_days, bundle_version,
                                     previous, allow_removals, created,
                                     allow_shrink=allow_shrink, resign=resign,
                                     dry_run=dry_run or key_path is None,
                                     resign_signers=tuple(trusted[0]) if resign and trusted
                                     else None)
    now = _now()
    prepared: PreparedRelease | None = None
    try:
        prepared = publish.prepare_release(request, now=now)
        files = files or prepared.manifest.file_count
        if prepared.resigned and prepared.previous is not None:
            refused = _resign_lint(repo, prepared.previous)
            if refused:
                return emit(refused, files, fmt=fmt, strict=strict, output=output)
        if dry_run or key_path is None:
            signature = None
        elif signer == "ssh-keygen":
            signature = signing.sign_with_ssh_keygen(prepared.manifest_bytes, key_path)
        else:
            key = signing.load_private_key(key_path, _passphrase(passphrase_prompt,
                                                                "Key passphrase"))
            signature = signing.sign(prepared.manifest_bytes, key)
        if signature is not None:
            publish.self_check(prepared, signature, now)
            if trusted is not None:
                publish.check_signer(prepared, signature, *trusted, now)
    except ReleaseRefused as exc:
        _discard(prepared)
        return emit([*found, *exc.as_findings(str(repo))], files, fmt=fmt,
                    strict=strict, output=output)
    except (publish.ReleaseUsageError, signing.SigningKeyError, FetchError) as exc:
        _discard(prepared)
        raise IOFailure(str(exc)) from None
    except VerificationError as exc:  # a bug: what was built does not verify
        _discard(prepared)
        raise IOFailure(f"the release failed its own verification, nothing was published: "
                        f"{exc.code} {exc.message}") from None
    except OSError as exc:  # e.g. a full disk while archives are staged
        _discard(prepared)
        where = f"{exc.filename}: " if exc.filename else ""
        raise IOFailure(f"cannot build the release for {out}, nothing was published: "
                        f"{where}{exc.strerror or exc}") from None
    except BaseException:
        _discard(prepared)
        raise
    _say(fmt, _summary(prepared, out, dry_run, trusted[1] if trusted else None))
    if signature is None:
        _discard(prepared)
    else:
        try:
            publish.write_release(prepared, signature, out)
        except OSError as exc:
            _discard(prepared)
            raise IOFailure(f"cannot write the release to {out}: {exc.strerror}") from None
    return emit(found, files, fmt=fmt, strict=strict, output=output)


def _discard(prepared: PreparedRelease | None) -> None:
    if prepared is not None:
        prepared.discard()


def _resign_lint(repo: Path, previous: PreviousRelease) -> list[Finding]:
    """The offline checks on the release being signed again, under the repo's settings
    of today: its findings and a refusal when they hold errors (content published before
    a rule existed must not be vouched for anew), else nothing."""
    from repo_tools.lint import lint_files
    from repo_tools.rules import release as rules
    from repo_tools.settings import OFFLINE_CHECKS, load_settings

    linted = lint_files(previous.all_files(), load_settings(repo, base=Path.cwd()).settings,
                        checks=OFFLINE_CHECKS)
    errors = sum(1 for f in linted.findings if f.severity is Severity.ERROR)
    if not errors:
        return []
    return [*linted.findings, finding(
        rules.LINT_ERRORS, str(repo),
        f"{errors} error(s) from the checks ({', '.join(linted.checks)}) in bundle_version "
        f"{previous.manifest.bundle_version}, which --resign would sign again: publish a "
        "fixed release instead (repo-tools release); nothing was published")]


def _repo_signers(repo: Path, chosen: Path | None) -> tuple[list[AllowedSigner], str] | None:
    """The keys the repo's clients trust, and the file's name as shown; None when no
    file was named and the repo has none at its root (nothing to check against)."""
    from repo_tools.release import publish, sshsig

    path = chosen if chosen is not None else repo / publish.ALLOWED_SIGNERS_FILE
    if chosen is None and not path.is_file():
        return None
    try:
        return sshsig.load_allowed_signers(path), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise IOFailure(f"cannot read {path}: {exc}") from None
    except sshsig.AllowedSignersError as exc:
        raise IOFailure(f"{path}: {exc}") from None


def _summary(prepared: PreparedRelease, out: Path, dry_run: bool,
             signers: str | None) -> list[str]:
    import hashlib

    from repo_tools.release.manifest import format_time

    m = prepared.manifest
    lines = []
    if prepared.resigned and prepared.previous is not None:
        lines.append(f"re-signing bundle_version {prepared.previous.manifest.bundle_version} "
                     f"({prepared.previous.where}): the same {m.file_count} files")
    elif prepared.previous is None:
        lines.append("previous release: none (first release)")
    else:
        lines.append(f"previous release: bundle_version {prepared.previous.manifest.bundle_version}"
                     f" ({prepared.previous.where})")
    if prepared.diff is not None:
        lines += [f"  {line}" for line in prepared.diff.lines()]
    lines += [f"  allowed shrink: {s.describe()}; clients with the default guard refuse it"
              for s in prepared.shrinks]
    if signers is not None and not dry_run:
        lines.append(f"signature accepted by {signers}")
    verb = "would publish" if dry_run else "published"
    size = sum(v.size for v in m.versions)
    lines.append(f"{verb} {m.repository} bundle_version {m.bundle_version} to {out}: "
                 f"{len(m.versions)} archive(s) of {size} bytes ({prepared.new_archives} "
                 f"new), {m.file_count} files, manifest sha256 "
                 f"{hashlib.sha256(prepared.manifest_bytes).hexdigest()}, "
                 f"expires {format_time(m.expires)}")
    return lines


@click.command()
@click.argument("source", metavar="RELEASE_DIR_OR_URL")
@click.option("--allowed-signers", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="OpenSSH allowed_signers file of trusted release keys.")
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="JSON file of accepted versions: checked for rollback, "
                                 "updated on success.")
@click.option("--repository", default=None, help="Require this repository id.")
@click.option("--manifest", "manifest_name", default="manifest.json", show_default=True,
              help="Manifest file name in the source (e.g. 7.manifest.json).")
@click.option("--all", "check_all", is_flag=True,
              help="Also fetch and check every config version's archive, one at a time "
                   "[default: the signed manifest only].")
@click.option("--client-version", callback=_semver_option, metavar="VERSION", default=None,
              help="Also fetch and check the one archive a client of this version selects "
                   "from the signed index (highest compatible config version).")
@click.option("--max-archive-bytes", type=click.IntRange(1), default=None,
              help="Refuse bigger archives [default: 256 MiB each].")
@click.option("--extract", "extract_to", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="After verifying, write the files into this new folder "
                                 "(every archive's, or with --client-version that one's).")
@click.option("--warn-expiring", "warn_days", type=click.IntRange(0, 3650), default=None,
              metavar="DAYS",
              help="Also exit 1 (R043) when the release is valid but expires within DAYS "
                   "days: time to re-sign it (`repo-tools release --resign`).")
@output_options
@command_with_exit
def verify(source: str, allowed_signers: Path, state_path: Path | None,
           repository: str | None, manifest_name: str, check_all: bool,
           client_version: str | None, max_archive_bytes: int | None,
           extract_to: Path | None, warn_days: int | None, fmt: str, strict: bool,
           output: Path | None) -> int:
    """Check a published release as a client must, before trusting any of it.

    Signature (before parsing), strict manifest, rollback against --state and expiry;
    then, with --all (or --extract), every config version's archive and its members, or
    with --client-version the archive that client selects. Exit 1 with a rule code when
    the release is rejected, or with --warn-expiring when it expires soon.
    """
    import dataclasses

    from repo_tools.release import sshsig
    from repo_tools.release import state as state_file
    from repo_tools.release import verify as verifier
    from repo_tools.release.errors import VerificationError
    from repo_tools.release.fetch import FetchError, locate
    from repo_tools.release.manifest import format_time

    if check_all and client_version is not None:
        raise click.UsageError("give --all or --client-version, not both")
    limits = verifier.VerifyLimits()
    if max_archive_bytes is not None:
        limits = dataclasses.replace(limits, max_archive_bytes=max_archive_bytes)
    try:
        signers = sshsig.load_allowed_signers(allowed_signers)
    except (OSError, UnicodeDecodeError) as exc:
        raise IOFailure(f"cannot read {allowed_signers}: {exc}") from None
    except sshsig.AllowedSignersError as exc:
        raise IOFailure(f"{exc}{_allowed_signers_hint(allowed_signers)}") from None
    try:
        state = state_file.load_state(state_path) if state_path is not None else {}
    except VerificationError as exc:  # R023 at the state file itself, not in the release
        return emit([finding(exc.rule, exc.path, exc.message)], 1, fmt=fmt, strict=strict,
                    output=output)
    fetcher, manifest_name = locate(source, manifest_name=manifest_name)
    now = _now()
    extraction = _Extraction(extract_to) if extract_to is not None else None
    try:
        checked = verifier.read_manifest(fetcher, manifest_name, signers, now=now,
                                         state=state, repository=repository, limits=limits)
        m = checked.manifest
        # --extract writes what it checked: every archive, unless a client version
        # narrows it to the one that client would use.
        every = check_all or (extract_to is not None and client_version is None)
        chosen, what = _archives_to_check(m, every, client_version)
        files = 1  # index.json, inside the signed manifest
        if extraction is not None:
            extraction.write(INDEX_PATH, m.index_bytes())
        # One archive at a time: memory holds one config version's files, whatever the
        # size of the repository.
        for _, contents in verifier.read_archives(fetcher, m, chosen, limits=limits):
            files += len(contents)
            if extraction is not None:
                for name, data in contents.items():
                    extraction.write(name, data)
    except VerificationError as exc:
        if extraction is not None:
            extraction.discard()
        return emit([_located(exc, fetcher.describe(), manifest_name)], 1, fmt=fmt,
                    strict=strict, output=output)
    except FetchError as exc:
        if extraction is not None:
            extraction.discard()
        raise IOFailure(str(exc)) from None
    except BaseException:
        if extraction is not None:
            extraction.discard()
        raise
    if extraction is not None:
        extraction.finish()
    if state_path is not None:
        try:
            state_file.record_accepted(state_path, m.repository, verifier.AcceptedRelease(
                m.bundle_version, checked.manifest_sha256))
        except OSError as exc:
            raise IOFailure(f"cannot write {state_path}: {exc.strerror}") from None
    _say(fmt, [f"verified {m.repository} bundle_version {m.bundle_version}: "
               f"{m.file_count} files in {len(m.versions)} archives (checked: {what}), "
               f"signed by {checked.signer}, created {format_time(m.created)}, "
               f"expires {format_time(m.expires)}"])
    soon = [] if warn_days is None else verifier.expiring(m, now, dt.timedelta(days=warn_days))
    return emit([finding(rule, f"{fetcher.describe()}/{manifest_name}", message)
                 for rule, message in soon], files, fmt=fmt, strict=strict,
                output=output)


def _archives_to_check(manifest: Manifest, every: bool,
                       client_version: str | None) -> tuple[list[str], str]:
    """The config versions whose archives verify fetches, and how the summary names them:
    all, the one the client selects (as the client library selects it, from the signed
    index), or none (the manifest alone)."""
    from repo_tools import compat

    if every:
        return [v.config_version for v in manifest.versions], "all"
    if client_version is None:
        return [], "manifest only"
    chosen = compat.select_config_version(manifest.index, client_version)
    if chosen is None:
        return [], f"manifest only, no config version admits client {client_version}"
    if manifest.archive_of(chosen) is None:
        # Only an index without a `versions` object gets here (the manifest parser rejects
        # a listed config version without an archive, R007); the client refuses such an
        # index (C003), so this is a note about what it would not use.
        return [], f"manifest only, client {client_version} selects {chosen}, which has " \
                   "no archive"
    return [chosen], f"{chosen} for client {client_version}"


def _allowed_signers_hint(path: Path) -> str:
    """For `--allowed-signers KEY.pub`: the file keygen wrote beside it, if it is there and
    lists the same key."""
    if path.suffix != ".pub":
        return ""
    beside = path.with_name(path.name.removesuffix(".pub") + ".allowed_signers")
    try:
        fields = path.read_text("utf-8").split()
        same_key = len(fields) >= 2 and fields[1] in beside.read_text("utf-8").split()
    except (OSError, UnicodeDecodeError):
        return ""
    if not same_key:
        return ""
    return f"; use --allowed-signers {beside}, which keygen wrote beside {path.name}"


def _located(exc: VerificationError, shown: str, manifest_name: str) -> Finding:
    """The finding, at the artifact as the user named it (e.g. 7.manifest.json)."""
    from repo_tools.release.manifest import MANIFEST_NAME

    path = exc.path
    if path.startswith(MANIFEST_NAME):
        path = manifest_name + path[len(MANIFEST_NAME):]
    return finding(exc.rule, f"{shown}/{path}" if path else shown, exc.message)


class _Extraction:
    """Verified files written as they come (one archive at a time) into a hidden folder
    beside the target, renamed to the target only when everything verified: a rejected
    release leaves nothing behind, and an existing target is never written into."""

    def __init__(self, target: Path) -> None:
        import tempfile

        self.target = target
        if target.exists() or target.is_symlink():
            raise IOFailure(f"cannot extract into {target}: it exists")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial",
                                                 dir=target.parent))
        except OSError as exc:
            raise IOFailure(f"cannot extract into {target}: {exc.strerror or exc}") from None

    def write(self, name: str, data: bytes) -> None:
        # Names were checked safe and relative (R018) before they get here.
        path = self.partial / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "xb") as handle:
                handle.write(data)
        except OSError as exc:
            self.discard()
            raise IOFailure(f"cannot extract into {self.target}: {exc.strerror or exc}"
                            ) from None

    def finish(self) -> None:
        try:
            self.partial.rename(self.target)
        except OSError as exc:
            self.discard()
            raise IOFailure(f"cannot extract into {self.target}: {exc.strerror or exc}"
                            ) from None

    def discard(self) -> None:
        import shutil

        shutil.rmtree(self.partial, ignore_errors=True)


@click.command()
@click.argument("key_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--principal", default="release@repo-tools", show_default=True,
              help="Identity in allowed_signers and the key comment.")
@click.option("--passphrase-prompt", is_flag=True,
              help="Encrypt the key with a passphrase, asked for twice without echo "
                   f"(default: ${PASSPHRASE_ENV} if set, else no passphrase).")
def keygen(key_path: Path, principal: str, passphrase_prompt: bool) -> None:
    """Write a new Ed25519 release key pair and its allowed_signers line.

    Writes KEY_PATH (mode 0600), KEY_PATH.pub and KEY_PATH.allowed_signers, and prints
    the allowed_signers line to give to clients. Never overwrites a file. Without a
    passphrase the key is written unencrypted, and a warning says so. Keep the key out of
    the config repository.
    """
    import importlib.util

    from repo_tools.release import signing, sshsig

    if not principal or any(c.isspace() or c in '"#' or ord(c) < 0x20 for c in principal):
        raise IOFailure(f"--principal {principal!r} cannot stand in an allowed_signers line: "
                        "use a name without spaces, quotes or '#', e.g. release@example.org")
    targets = [key_path, key_path.with_name(key_path.name + ".pub"),
               key_path.with_name(key_path.name + ".allowed_signers")]
    for path in targets:
        if path.exists() or path.is_symlink():
            raise IOFailure(f"{path} exists; keygen never overwrites a key")
    passphrase = os.environ.get(PASSPHRASE_ENV) or None
    if (passphrase_prompt or passphrase) and importlib.util.find_spec("bcrypt") is None:
        raise IOFailure("encrypting the key needs the bcrypt package: pip install "
                        f"'{DISTRIBUTION}[release]' (or write it unencrypted and add a "
                        f"passphrase with `ssh-keygen -p -f {key_path}`)")
    if passphrase_prompt:
        passphrase = click.prompt("New key passphrase", hide_input=True,
                                  confirmation_prompt=True, err=True) or None
    key = signing.generate_key()
    try:
        private = signing.private_key_pem(key, passphrase)
    except Exception as exc:  # cryptography needs bcrypt to encrypt OpenSSH keys
        raise IOFailure(f"cannot encrypt the key: {exc}; install bcrypt") from None
    public = sshsig.public_key_line(key.public_key())
    allowed = f'{principal} namespaces="{sshsig.NAMESPACE}" {public}\n'
    contents = [(private, 0o600), (f"{public} {principal}\n".encode(), 0o644),
                (allowed.encode(), 0o644)]
    try:
        for path, (data, mode) in zip(targets, contents, strict=True):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
    except OSError as exc:
        raise IOFailure(f"cannot write {exc.filename}: {exc.strerror}") from None
    click.echo(f"wrote {targets[0]}, {targets[1]} and {targets[2]}")
    click.echo("allowed_signers line for clients:")
    click.echo(allowed, nl=False)
    for line in _key_warnings(key_path, encrypted=passphrase is not None):
        click.echo(line, err=True)


def _key_warnings(key_path: Path, *, encrypted: bool) -> list[str]:
    """What to do with a new private key: a passphrase, and never the config repo."""
    lines = []
    if not encrypted:
        lines.append(
            f"warning: {key_path} is not encrypted: anyone who can read it can sign releases. "
            f"Add a passphrase with `ssh-keygen -p -f {key_path}` (release then asks for it "
            f"with --passphrase-prompt, or reads ${PASSPHRASE_ENV}), or make the key with "
            "`repo-tools keygen --passphrase-prompt`.")
    lines.append(f"Never commit {key_path} to the config repo or any other: keep it outside "
                 "(e.g. in a CI secret). lint and release refuse a private key in what a "
                 "release would publish (R037), but git history keeps a committed one.")
    work_tree = _unignored_in_work_tree(key_path)
    if work_tree is not None:
        lines.append(f"warning: {key_path} is inside the git work tree {work_tree} and not "
                     "ignored: move it out, or add it to .gitignore before the next commit.")
    return lines


def _unignored_in_work_tree(path: Path) -> str | None:
    """The top of the git work tree holding path, when git would not ignore it; else None."""
    import subprocess

    def git(*args: str) -> subprocess.CompletedProcess[str] | None:
        try:
            return subprocess.run(["git", "-C", str(path.parent), *args], capture_output=True,
                                  text=True, check=False, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None

    top = git("rev-parse", "--show-toplevel")
    if top is None or top.returncode != 0 or not top.stdout.strip():
        return None
    ignored = git("check-ignore", "-q", "--", path.name)
    if ignored is not None and ignored.returncode == 0:
        return None
    return top.stdout.strip()
