"""Known placeholder values: download fields that look valid and point at nothing real.

The config-repo template ships an example model whose digest is the SHA-256 of the empty
file and whose URL names an example organisation, so that a new repository passes the
format checks at once. Published as is, every client would download a file that is not
there, or check a real one against the digest of nothing. Rule V015. Pure.
"""

from __future__ import annotations

# hashlib.sha256(b"").hexdigest(), written out: the hook does not import hashlib for it.
EMPTY_FILE_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

PLACEHOLDER_SHA256: dict[str, str] = {
    EMPTY_FILE_SHA256: "the SHA-256 of the empty file",
    "0" * 64: "an all-zero digest",
}

TEMPLATE_EXAMPLE_URL = ("https://huggingface.co/example-org/example-model/resolve/main/"
                        "example-model-q4.gguf")
"""The template's `example_url` default (a test holds the two equal)."""

PLACEHOLDER_URLS: dict[str, str] = {
    TEMPLATE_EXAMPLE_URL: "the template's example URL",
}


def placeholder_sha256(value: str) -> str | None:
    """What placeholder `value` is (None: not a known one)."""
    return PLACEHOLDER_SHA256.get(value)


def placeholder_url(value: str) -> str | None:
    return PLACEHOLDER_URLS.get(value)
