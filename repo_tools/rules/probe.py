"""Rules of `probe`: what a live check of the download URLs can find."""

from __future__ import annotations

from repo_tools.findings import Rule, Severity

E, W = Severity.ERROR, Severity.WARNING

HTTP_ERROR = Rule(
    "P001", "http-error", E, "The download URL answers with an error status (404, 500, ...).",
    "Fix the URL (the file may have moved) or remove the entry.",
)
CONNECTION_FAILED = Rule(
    "P002", "connection-failed", E,
    "The download URL gives no HTTP answer: DNS, refused or reset connection, TLS or timeout.",
    "Check the host name and that the server is up; rerun with a larger --read-timeout if it "
    "is only slow.",
)
BAD_REDIRECT = Rule(
    "P003", "bad-redirect", E, "The URL redirects in a loop, too often, or to nowhere.",
    "Point the entry at the final URL of the file.",
)
INSECURE_REDIRECT = Rule(
    "P004", "insecure-redirect", W, "An https URL redirects to plain http.",
    "Use a URL whose whole redirect chain stays on https, so the file cannot be altered in "
    "transit.",
)
SIZE_MISMATCH = Rule(
    "P005", "size-mismatch", E, "The size the server reports differs from `download.size`.",
    "Check whether the file was re-uploaded; update `size` (and `sha256`) or the URL.",
)
CHECKSUM_MISMATCH = Rule(
    "P006", "checksum-mismatch", E, "The file's SHA-256 differs from `download.sha256`.",
    "If the host re-uploaded the file on purpose, run `repo-tools probe --hash --write` to "
    "record the new digest; otherwise fix the URL.",
)
HF_BLOB_URL = Rule(
    "P007", "huggingface-blob-url", E,
    "A Hugging Face URL points at `/blob/` (an HTML page), not `/resolve/` (the file).",
    "Replace `/blob/` with `/resolve/` in the URL.",
)
HTML_RESPONSE = Rule(
    "P008", "html-response", E,
    "The URL answers with an HTML page instead of the file (a login or error page with 200).",
    "Use the direct download URL of the file.",
)
INCOMPLETE_BODY = Rule(
    "P009", "incomplete-body", E,
    "The server closed the connection before sending the whole file, on every retry.",
    "Check the server; a body shorter than its Content-Length is a broken download for "
    "every client.",
)
TOO_LARGE = Rule(
    "P010", "too-large", W, "The file is larger than --max-size, so it was not hashed.",
    "Raise --max-size if the file is expected to be that large.",
)
MISSING_SHA256 = Rule(
    "P011", "missing-sha256", E, "The entry has no `download.sha256`; probe computed it.",
    "Run `repo-tools probe --hash --write` to fill it in.",
)
DEADLINE = Rule(
    "P012", "deadline-exceeded", E, "The run's --deadline ran out before this URL was checked.",
    "Raise --deadline, or probe fewer files per run.",
)
UNPROBEABLE_URL = Rule(
    "P013", "unprobeable-url", E, "The download URL is not an http(s) URL with a host.",
    "Use an absolute https:// URL (see V003).",
)

RULES: tuple[Rule, ...] = (
    HTTP_ERROR, CONNECTION_FAILED, BAD_REDIRECT, INSECURE_REDIRECT, SIZE_MISMATCH,
    CHECKSUM_MISMATCH, HF_BLOB_URL, HTML_RESPONSE, INCOMPLETE_BODY, TOO_LARGE, MISSING_SHA256,
    DEADLINE, UNPROBEABLE_URL,
)
