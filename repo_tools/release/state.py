"""The accepted-release state file (rollback protection) on disk: the I/O around the pure
`parse_state`/`state_bytes` of `repo_tools.release.verify`."""

from __future__ import annotations

from pathlib import Path

from repo_tools.atomic import write_atomic
from repo_tools.locks import exclusive
from repo_tools.release.verify import AcceptedRelease, bad_state, parse_state, state_bytes


def load_state(path: Path) -> dict[str, AcceptedRelease]:
    """A missing file is an empty state (first use); anything unreadable is R023."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise bad_state(f"cannot read the state file: {exc.strerror}", str(path)) from None
    return parse_state(data, str(path))


def record_accepted(path: Path, repository: str, accepted: AcceptedRelease) -> None:
    """Store the accepted release atomically, never lowering a stored version.

    Clients sharing the file are serialised: an unlocked read-modify-write could lose
    another repository's entry or lower a version, weakening rollback protection.
    """
    with exclusive(path.with_name(path.name + ".lock")):
        state = load_state(path)
        current = state.get(repository)
        if current is not None and current.bundle_version > accepted.bundle_version:
            return
        state[repository] = accepted
        write_atomic(path, state_bytes(state))
