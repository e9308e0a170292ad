"""Rules for single model files: JSON well-formedness, schema shape, field values."""

from __future__ import annotations

from repo_tools.findings import Rule, Severity

E, W = Severity.ERROR, Severity.WARNING

NOT_UTF8 = Rule(
    "J001", "not-utf8", E, "The file is not valid UTF-8.",
    "Re-save the file as UTF-8 (without a byte-order mark).",
)
BOM = Rule(
    "J002", "byte-order-mark", E, "The file starts with a UTF-8 byte-order mark.",
    "Remove the BOM; JSON (RFC 8259) must not start with one and some clients reject it.",
)
PARSE_ERROR = Rule(
    "J003", "invalid-json", E, "The file is not valid JSON.",
    "Fix the syntax at the reported position.",
)
DUPLICATE_KEY = Rule(
    "J004", "duplicate-key", E, "An object has the same key twice; parsers disagree on which wins.",
    "Remove one of the two keys.",
)
EMPTY_FILE = Rule(
    "J005", "empty-file", E, "The file is empty.",
    "Add the model list or delete the file.",
)
BAD_NUMBER = Rule(
    "J006", "bad-number", E, "A number is not representable (NaN, Infinity or too many digits).",
    "Use a plain finite JSON number.",
)
TOO_DEEP = Rule(
    "J007", "too-deep", E, "The document is nested too deeply to process.",
    "Flatten the structure; model files are a few levels deep.",
)
UNREADABLE = Rule(
    "J008", "unreadable", E, "The path cannot be read as a file (a directory, or no permission).",
    "Point the tool at a regular, readable file.",
)
JSON_RULES = (NOT_UTF8, BOM, PARSE_ERROR, DUPLICATE_KEY, EMPTY_FILE, BAD_NUMBER, TOO_DEEP,
              UNREADABLE)

MISSING_FIELD = Rule(
    "S001", "missing-field", E, "A required field is missing.",
    "Add the field; see the schema for what it holds.",
    fixable="adds a missing top-level `schema_version` (\"2.0\") to a v2 file",
)
WRONG_TYPE = Rule(
    "S002", "wrong-type", E, "A field has the wrong JSON type.",
    "Use the type the message names.",
)
UNKNOWN_KEY = Rule(
    "S003", "unknown-key", E, "A key that the schema does not define (often a typo).",
    "Fix the spelling, or move free-form data under `metadata`.",
)
SCHEMA_VIOLATION = Rule(
    "S004", "schema-violation", E, "A value breaks a schema constraint (empty, too small, ...).",
    "Change the value as the message says.",
)
V1_FORMAT = Rule(
    "S005", "v1-format", E, "The file is in the legacy v1 format.",
    "Run `repo-tools migrate FILE` to convert it to v2.",
)
UNSUPPORTED_VERSION = Rule(
    "S006", "unsupported-schema-version", E, "`schema_version` is not a 2.x version.",
    "Set `schema_version` to \"2.0\".",
)
SCHEMA_RULES = (MISSING_FIELD, WRONG_TYPE, UNKNOWN_KEY, SCHEMA_VIOLATION, V1_FORMAT,
                UNSUPPORTED_VERSION)

BAD_SEMVER = Rule(
    "V001", "bad-semver", E, "A version is not strict SemVer 2.0.0.",
    "Write MAJOR.MINOR.PATCH with no `v` prefix and no leading zeros, e.g. 1.2.0.",
    fixable="removes a `v` prefix from an otherwise valid version",
)
MIN_ABOVE_MAX = Rule(
    "V002", "min-above-max", E, "`min_client_version` is greater than `max_client_version`.",
    "Swap or correct the two bounds.",
)
BAD_URL = Rule(
    "V003", "bad-url", E, "The download URL is not an absolute https URL with a host.",
    "Use an https:// URL without spaces.",
    fixable="removes whitespace before and after the URL",
)
INSECURE_URL = Rule(
    "V004", "insecure-url", W, "The download URL uses plain http.",
    "Switch to https so the download cannot be altered in transit.",
)
BAD_SHA256 = Rule(
    "V005", "bad-sha256", E, "`sha256` is not 64 lowercase hexadecimal characters.",
    "Use the hex SHA-256 digest, lower case, with no `sha256:` prefix "
    "(`repo-tools probe --hash --write` computes it).",
    fixable="lower-cases a 64-digit hex digest and removes a `sha256:` prefix",
)
UNSAFE_CACHE_PATH = Rule(
    "V006", "unsafe-cache-path", E, "`cachePath` could escape the cache directory.",
    "Use a relative path with `/` separators and no `..`, drive letter or leading `/`.",
)
CACHE_PATH_CONFLICT = Rule(
    "V007", "cache-path-conflict", E,
    "Two models of one config version use one `cachePath` for different content.",
    "Give each file its own cachePath (paths that differ only in case collide on macOS and "
    "Windows too).",
)
DUPLICATE_MODEL = Rule(
    "V008", "duplicate-model", E,
    "Two entries of one config version share provider, model and version.",
    "Remove one entry or change its version.",
)
FILENAME_PROVIDER = Rule(
    "V009", "filename-provider-mismatch", W,
    "The file name does not match the `provider` of its models.",
    "Name the file `<provider>.json` or move the model to its provider's file.",
)
BAD_NAME = Rule(
    "V010", "bad-name", E, "A model or provider name is empty or contains control characters.",
    "Remove the control characters (newlines, tabs, NUL, ...).",
)
HF_BLOB_URL = Rule(
    "V011", "huggingface-blob-url", E,
    "A Hugging Face download URL points at `/blob/`, the HTML page about the file, not at "
    "`/resolve/`, the file itself.",
    "Replace `/blob/` with `/resolve/` in the URL.",
    fixable="replaces `/blob/` with `/resolve/`",
)
PLACEHOLDER_VALUE = Rule(
    "V015", "placeholder-value", E,
    "A download field holds a known placeholder, not a real value: the SHA-256 of the "
    "empty file, an all-zero digest, or the template's example URL. A release would "
    "publish a model no client can download and verify.",
    "Put the real file's URL and digest in (`repo-tools probe --hash --write` computes the "
    "sha256), or delete the example model.",
)
VALUE_RULES = (BAD_SEMVER, MIN_ABOVE_MAX, BAD_URL, INSECURE_URL, BAD_SHA256, UNSAFE_CACHE_PATH,
               CACHE_PATH_CONFLICT, DUPLICATE_MODEL, FILENAME_PROVIDER, BAD_NAME, HF_BLOB_URL,
               PLACEHOLDER_VALUE)
