"""Probe's tunable options, declared once.

Each row is an option of `repo-tools probe` and the key of the same name in the `[probe]`
settings table: its kind, default and help. The click flags (`cli/probe.py`), the checks
of `[probe]` values (`settings.py`) and the conversion to `ProbeOptions` below all read
this table, so an option added here of an existing kind is a flag and a setting at once
(a new kind also needs its click type and its check; the docs' tables are by hand).

It lives outside `repo_tools/probe/` because importing that package imports urllib3,
and this table is on the hooks' path (settings, and `repo-tools --help`): it imports no
network code, and neither does anything it imports at module level.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from repo_tools.probe import ProbeOptions

# More concurrent probes than this only open more connections to the same few hosts.
MAX_PROBE_JOBS = 256
DEFAULT_JOBS = 8

# What values an option takes; settings check `[probe]` values and the CLI picks a click
# type by kind.
Kind = Literal["hash", "jobs", "positive-number", "number", "count", "byte-size", "bool",
               "directory", "file", "shard", "output-file"]


@dataclasses.dataclass(frozen=True, slots=True)
class ProbeOption:
    """One option: `key` in `[probe]`, `--key` on the command line (`--no-key` for a
    bool, which is on by default). `field` is the `ProbeOptions` field it sets,
    `limits.<name>` for a `NetworkLimits` one; None when the conversion handles it.

    `setting` False: a flag only, never a `[probe]` key (what one run of a matrix does is
    not a property of the repository). `compared`: shard reports must agree on it to be
    merged, because it changes what a URL turns out to be (`--jobs` only changes speed).
    """

    key: str
    kind: Kind
    default: Any  # None: off or unset (TOML has no null, so only the CLI passes None)
    help: str
    field: str | None
    setting: bool = True
    compared: bool = True

    @property
    def flag(self) -> str:
        return f"--no-{self.key}" if self.kind == "bool" else f"--{self.key}"

    @property
    def param(self) -> str:
        """The option's Python name (the `probe` command's parameter)."""
        return self.key.replace("-", "_")


# NetworkLimits (repo_tools/net/limits.py) holds the same network defaults for the client
# and release, below this module's floor; tests/test_probe_units.py proves they agree.
PROBE_OPTIONS: dict[str, ProbeOption] = {option.key: option for option in (
    ProbeOption("hash", "hash", None,
                "Check sha256 too. Bare --hash uses a host-stated digest or the cache when "
                "it can; --hash=full always downloads and hashes.", None),
    ProbeOption("jobs", "jobs", DEFAULT_JOBS, "URLs probed at once.", "jobs",
                compared=False),
    ProbeOption("connect-timeout", "positive-number", 10.0,
                "Seconds to wait for a connection.", "limits.connect_timeout"),
    ProbeOption("read-timeout", "positive-number", 30.0,
                "Seconds to wait for the next bytes of an answer.", "limits.read_timeout"),
    ProbeOption("retries", "count", 3,
                "Retries after a connection error, 429 or 5xx (never after a 404).",
                "limits.retries"),
    ProbeOption("max-backoff", "number", 30.0,
                "Cap in seconds of the exponential backoff between retries.",
                "limits.backoff_cap"),
    ProbeOption("max-retry-after", "number", 30.0,
                "Cap in seconds on a server's Retry-After.", "limits.retry_after_cap"),
    ProbeOption("deadline", "positive-number", None,
                "Seconds the whole run may take; URLs not checked by then are reported.",
                "deadline"),
    ProbeOption("max-size", "byte-size", None,
                "Do not hash bodies larger than this (e.g. 20G).", "max_size"),
    ProbeOption("cache-dir", "directory", None,
                "Directory of the hash cache [default: the user cache dir].", None,
                compared=False),
    ProbeOption("cache", "bool", True, "Neither read nor write the hash cache.", None),
    ProbeOption("ca-bundle", "file", None,
                "PEM file of CA certificates to trust for https.", "limits.ca_bundle"),
    ProbeOption("shard", "shard", None,
                "Probe only shard K of N (K/N): each distinct URL belongs to exactly one "
                "shard, by a hash of the URL; merge the shards' --report files with "
                "probe-merge.", "shard", setting=False, compared=False),
    ProbeOption("report", "output-file", None,
                "Also write a JSON report of every URL probed (the input of probe-merge).",
                None, setting=False, compared=False),
)}

# The `[probe]` keys: the options that are settings too.
PROBE_SETTINGS: dict[str, ProbeOption] = {
    key: option for key, option in PROBE_OPTIONS.items() if option.setting}



def to_probe_options(values: Mapping[str, Any], *, root: Path | None = None,
                     write: bool = False) -> ProbeOptions:
    """Option values keyed as in the table (already checked, by settings or by click) as
    the probe's own options; a missing key or None means the option's default.

    Relative paths are relative to `root` when given (settings: the config repo whose
    settings they are), else to the current directory; `~` is expanded. `write` implies
    `hash = "auto"` unless a hash mode is given.
    """
    from repo_tools.probe import NetworkLimits, ProbeOptions
    from repo_tools.probe.cache import default_cache_dir

    def value(key: str) -> Any:
        given = values.get(key)
        option = PROBE_OPTIONS[key]
        if given is None:
            return option.default
        if option.kind in ("directory", "file", "output-file"):
            path = Path(given).expanduser()
            return root / path if root is not None and not path.is_absolute() else path
        return given

    fields: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    for option in PROBE_OPTIONS.values():
        if option.field is None:
            continue
        group, _, name = option.field.rpartition(".")
        (limits if group == "limits" else fields)[name] = value(option.key)
    cache_dir = (value("cache-dir") or default_cache_dir()) if value("cache") else None
    return ProbeOptions(hash_mode=value("hash") or ("auto" if write else None), write=write,
                        limits=NetworkLimits(**limits), cache_dir=cache_dir, **fields)


def recorded_options(options: ProbeOptions) -> dict[str, Any]:
    """The compared options (`ProbeOption.compared`) as a run used them, keyed as in the
    table, in JSON types: what a shard report records and probe-merge compares."""
    recorded: dict[str, Any] = {}
    for option in PROBE_OPTIONS.values():
        if not option.compared:
            continue
        if option.key == "hash":
            value: Any = options.hash_mode
        elif option.key == "cache":
            value = options.cache_dir is not None
        elif option.field is None:
            continue  # pragma: no cover - every other compared option sets a field
        else:
            group, _, name = option.field.rpartition(".")
            value = getattr(options.limits if group == "limits" else options, name)
        recorded[option.key] = str(value) if isinstance(value, Path) else value
    return recorded
