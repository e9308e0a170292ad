"""Rules for `release` (refusals to publish) and `verify` (reasons a client rejects a release).

R001-R029 are the verifier's reasons, in the order the checks run; a client library keys its
handling on them. R030 and up are the reasons `release` refuses to publish. Those about
what a release would publish (R036-R039) are reported by `lint` (in its `index` check) and
`check-index` too, before anyone runs `release`; R040-R042 are what release predicts about
clients, and R043 is `verify --warn-expiring`.
"""

from __future__ import annotations

from repo_tools.findings import Rule, Severity

E = Severity.ERROR

OVERSIZE = Rule(
    "R001", "oversize", E,
    "The manifest, signature or an archive is larger than the configured limit.",
    "Fetch from the real release location; raise the limit only if releases really grew.",
)
BAD_SIGNATURE_FORMAT = Rule(
    "R002", "bad-signature-format", E,
    "The signature file is not a well-formed armored SSHSIG (truncated, trailing bytes, "
    "bad armor or base64, wrong magic or version).",
    "Re-download the `.sig`; if it persists the release location serves a corrupt file.",
)
UNSUPPORTED_ALGORITHM = Rule(
    "R003", "unsupported-algorithm", E,
    "The signature uses a key type or hash algorithm other than ssh-ed25519 with sha256/sha512.",
    "Sign releases with an Ed25519 key (`repo-tools keygen` or `ssh-keygen -t ed25519`).",
)
WRONG_NAMESPACE = Rule(
    "R004", "wrong-namespace", E,
    "The signature was made for another namespace (e.g. a git commit signature).",
    "Sign with `repo-tools release`, which uses the release namespace.",
)
UNTRUSTED_KEY = Rule(
    "R005", "untrusted-key", E,
    "The signing key is not in the allowed signers file, or not allowed for this namespace "
    "or at this time.",
    "Add the maintainer's public key to allowed_signers, or re-sign with a listed key.",
)
BAD_SIGNATURE = Rule(
    "R006", "bad-signature", E,
    "The signature does not match the exact manifest bytes (tampered, re-formatted, or a "
    "signature of another release).",
    "Re-download manifest and signature together; never edit a signed manifest.",
)
MALFORMED_MANIFEST = Rule(
    "R007", "malformed-manifest", E,
    "The manifest is not strict JSON of the expected shape (encoding, duplicate keys, NaN, "
    "wrong types, missing or unknown fields).",
    "Publish manifests made by `repo-tools release` only.",
)
NON_CANONICAL_MANIFEST = Rule(
    "R008", "non-canonical-manifest", E,
    "The manifest bytes are not the canonical serialisation of their content.",
    "Publish manifests made by `repo-tools release` only; do not re-format them.",
)
WRONG_REPOSITORY = Rule(
    "R009", "wrong-repository", E,
    "The manifest is for another repository than the client expects.",
    "Point the client at the right release location, or pass the right --repository.",
)
ROLLBACK = Rule(
    "R010", "rollback", E,
    "The bundle_version is lower than one this client already accepted.",
    "Serve the latest release; an old one replayed at a client is refused by design.",
)
EQUIVOCATION = Rule(
    "R011", "same-version-different-content", E,
    "The bundle_version equals the accepted one but the manifest differs.",
    "Never publish two different releases with one version number; release N+1.",
)
EXPIRED = Rule(
    "R012", "expired", E,
    "The manifest's `expires` time has passed (a frozen or stale release).",
    "Publish a fresh release (maintainers: re-run `repo-tools release` on a schedule).",
)
FUTURE_DATED = Rule(
    "R013", "future-dated", E,
    "The manifest was `created` further in the future than the allowed clock skew.",
    "Check the client's clock and the release's SOURCE_DATE_EPOCH.",
)
ARCHIVE_MISMATCH = Rule(
    "R014", "archive-mismatch", E,
    "A config version's archive differs in size or SHA-256 from what the manifest states.",
    "Re-download the archive the manifest names; it was tampered with or truncated.",
)
MALFORMED_ARCHIVE = Rule(
    "R015", "malformed-archive", E,
    "An archive is not a well-formed USTAR archive (bad header checksum, truncated member, "
    "data after the end marker).",
    "Publish archives made by `repo-tools release` only.",
)
ARCHIVE_EXTENSION = Rule(
    "R016", "archive-extension", E,
    "A pax or GNU extension header is present; it could override a member's name or size.",
    "Release archives are plain USTAR; publish archives made by `repo-tools release` only.",
)
NOT_REGULAR_MEMBER = Rule(
    "R017", "not-regular-member", E,
    "An archive member is not a regular file (symlink, hardlink, directory, device or "
    "FIFO).",
    "Release archives hold regular files only.",
)
UNSAFE_MEMBER_NAME = Rule(
    "R018", "unsafe-member-name", E,
    "A member name is absolute, climbs with `..`, has a backslash, drive letter, control "
    "character or empty part, or is not UTF-8.",
    "Release archives hold normalised relative paths only.",
)
DUPLICATE_MEMBER = Rule(
    "R019", "duplicate-member", E,
    "Two members have the same name, or names equal after case folding and NFC.",
    "Rename one of the files; they would collide on macOS and Windows.",
)
UNLISTED_MEMBER = Rule(
    "R020", "unlisted-member", E,
    "An archive holds a file that is not a model file of its config version "
    "(`versions/<v>/models/*.json`).",
    "Publish the archives and manifest from one `repo-tools release` run.",
)
MISSING_MEMBER = Rule(
    "R021", "missing-member", E,
    "An archive holds another number of files than the manifest states for it.",
    "Publish the archives and manifest from one `repo-tools release` run.",
)
MEMBER_MISMATCH = Rule(
    "R022", "member-mismatch", E,
    "An archive's members are not in sorted order (by UTF-8 bytes), as the deterministic "
    "archive `release` writes has them.",
    "Publish the archives and manifest from one `repo-tools release` run.",
)
BAD_STATE = Rule(
    "R023", "bad-state", E,
    "The client state file is unreadable or malformed, so rollback cannot be checked.",
    "Restore the state file from backup, or delete it deliberately to trust on first use.",
)
VERIFY_RULES = (OVERSIZE, BAD_SIGNATURE_FORMAT, UNSUPPORTED_ALGORITHM, WRONG_NAMESPACE,
                UNTRUSTED_KEY, BAD_SIGNATURE, MALFORMED_MANIFEST, NON_CANONICAL_MANIFEST,
                WRONG_REPOSITORY, ROLLBACK, EQUIVOCATION, EXPIRED, FUTURE_DATED, ARCHIVE_MISMATCH,
                MALFORMED_ARCHIVE, ARCHIVE_EXTENSION, NOT_REGULAR_MEMBER, UNSAFE_MEMBER_NAME,
                DUPLICATE_MEMBER, UNLISTED_MEMBER, MISSING_MEMBER, MEMBER_MISMATCH, BAD_STATE)

LINT_ERRORS = Rule(
    "R030", "lint-errors", E,
    "The repository has offline check errors; it is not published.",
    "Fix the findings listed above (`repo-tools lint`), then release again.",
)
VERSION_NOT_MONOTONIC = Rule(
    "R031", "version-not-monotonic", E,
    "The requested bundle_version is not above the previously published one.",
    "Omit --bundle-version (it defaults to previous + 1) or choose a higher one.",
)
REMOVES_MODELS_IN_USE = Rule(
    "R032", "removes-models-in-use", E,
    "The release stops serving models that clients in range still receive today.",
    "Keep the models, or pass --allow-removals if removing them is intended.",
)
UNBUNDLABLE_FILE = Rule(
    "R033", "unbundlable-file", E,
    "A file under versions/ cannot go into a bundle (special file, unreadable, unsafe "
    "name, name too long for USTAR). Unsafe symlinks are R039, colliding names R038.",
    "Replace the file with a regular, readable one and rename it as the message says.",
)
BAD_PREVIOUS_RELEASE = Rule(
    "R034", "bad-previous-release", E,
    "The previous release (in --out or --previous) cannot be read or does not match its "
    "manifest.",
    "Point --previous at the published release, or repair --out.",
)
DIRTY_WORKTREE = Rule(
    "R035", "dirty-worktree", E,
    "index.json or versions/ has uncommitted changes or untracked files, so the bundle "
    "would not be the recorded commit.",
    "Commit (or remove) the changes, then release.",
)
UNPUBLISHABLE_FILE = Rule(
    "R036", "unpublishable-file", E,
    "A file under versions/ is not a model file (`versions/VERSION/models/NAME.json`). A "
    "release holds index.json and the model files only, and refuses to run while others "
    "are there; `lint` and `check-index` report them first.",
    "Move the file out of versions/ or delete it (`git rm`): notes, secrets and keys do "
    "not belong there.",
)
PRIVATE_KEY_MATERIAL = Rule(
    "R037", "private-key-material", E,
    "A file that a release would take holds private key material: an OpenSSH or PEM "
    "`-----BEGIN ... PRIVATE KEY-----` block (any line endings, any surrounding text) or an "
    "OpenSSH key body. A release refuses to run; the key itself is never printed.",
    "Remove the key from the repository and treat it as leaked, since git history keeps "
    "it: make a new one (`repo-tools keygen`) and keep it outside the repository.",
)
COLLIDING_PATHS = Rule(
    "R038", "colliding-paths", E,
    "Two files of one config version have names that differ only in case or Unicode "
    "normalisation (`Bartowski.json`, `bartowski.json`): on macOS and Windows they are one "
    "file, and a release refuses them. `lint` and `check-index` report them first.",
    "Merge the two files' models into one, or rename one as the message suggests "
    "(`git mv`).",
)
UNSAFE_SYMLINK = Rule(
    "R039", "unsafe-symlink", E,
    "A symlink under versions/ (or index.json itself) leads outside the repository, to "
    "something other than a regular file, nowhere, or round in a loop. A release refuses "
    "it; `lint` and `check-index` report it first.",
    "Replace the link with the file itself (`cp --remove-destination TARGET LINK`).",
)
SIGNER_NOT_ALLOWED = Rule(
    "R040", "signer-not-allowed", E,
    "The signing key is not accepted, for the release namespace, by the repository's own "
    "allowed_signers file (the `allowed-signers` setting, `allowed_signers` by default): "
    "every client that trusts that file would reject the release (R005).",
    "Sign with a key listed there, or add the new key's line (`repo-tools keygen` writes "
    "it) to allowed_signers, commit it, and ship it to clients first.",
)
SHRINKS_CLIENTS = Rule(
    "R041", "shrinks-clients", E,
    "For some client versions the release drops more of the models the previous release "
    "gave them than a client's default shrink guard allows "
    "(`ClientConfig.max_drop_fraction`): those clients would refuse it (C005) and stay on "
    "the previous release.",
    "Keep the models, or pass --allow-shrink if clients are meant to lose them (clients "
    "with the default guard still refuse: ship them a higher max_drop_fraction first).",
)
NOTHING_TO_RESIGN = Rule(
    "R042", "nothing-to-resign", E,
    "`release --resign` found no previous release, or one whose signature the "
    "repository's allowed_signers does not accept, so there is nothing trusted to sign "
    "again.",
    "Point --previous at the published release (it is checked against allowed_signers, "
    "expiry aside), or make a normal release.",
)
EXPIRES_SOON = Rule(
    "R043", "expires-soon", E,
    "`verify --warn-expiring DAYS`: the release is valid but expires within DAYS days; "
    "after that every client refuses it (R012) and stays on its last known good config.",
    "Publish a fresh release, or sign the same content again: `repo-tools release "
    "--resign` (the template's scheduled workflow does this).",
)
RELEASE_RULES = (LINT_ERRORS, VERSION_NOT_MONOTONIC, REMOVES_MODELS_IN_USE, UNBUNDLABLE_FILE,
                 BAD_PREVIOUS_RELEASE, DIRTY_WORKTREE, UNPUBLISHABLE_FILE, PRIVATE_KEY_MATERIAL,
                 COLLIDING_PATHS, UNSAFE_SYMLINK, SIGNER_NOT_ALLOWED, SHRINKS_CLIENTS,
                 NOTHING_TO_RESIGN, EXPIRES_SOON)

RULES: tuple[Rule, ...] = VERIFY_RULES + RELEASE_RULES
