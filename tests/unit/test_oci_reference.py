"""Image references as the release scripts split them (hack/release/oci.py): Skaffold names what it pushed
`registry/repository:tag@digest`, and a signature is made for the digest, in the repository."""

import pytest

from hack.release import oci, sign


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("localhost:5001/flask-service:v1", ("localhost:5001", "flask-service", "v1")),
        ("localhost:5001/a/b@sha256:ab12", ("localhost:5001", "a/b", "sha256:ab12")),
        ("localhost:5001/flask-service:v1@sha256:ab12", ("localhost:5001", "flask-service", "sha256:ab12")),
        ("localhost:5001/e2e/flask-service:1.2.3@sha256:ab12", ("localhost:5001", "e2e/flask-service", "sha256:ab12")),
    ],
)
def test_a_reference_splits_into_host_repository_and_tag_or_digest(reference, expected):
    assert oci.split_reference(reference) == expected


@pytest.mark.parametrize("reference", ["localhost:5001/flask-service", "flask-service:v1"])
def test_a_reference_without_a_tag_or_a_host_is_refused(reference):
    with pytest.raises(oci.RegistryError):
        oci.split_reference(reference)


def test_what_is_signed_is_the_digest_in_its_repository():
    assert sign.by_digest("localhost:5001/flask-service:v1@sha256:ab12") == "localhost:5001/flask-service@sha256:ab12"
    assert sign.by_digest("localhost:5001/flask-service@sha256:ab12") == "localhost:5001/flask-service@sha256:ab12"
