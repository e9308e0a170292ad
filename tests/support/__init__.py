"""What the tests share: builders of repos and files, real servers (HTTP, git over HTTP),
release and client labs, the vendored catalogs, and the docs as the tests read them."""
