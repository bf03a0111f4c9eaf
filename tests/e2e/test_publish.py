"""`make publish` against the real local registry, into a repository of this test's own: the image under
its version tag, its CycloneDX SBOM attached as an OCI referrer, the chart as an OCI artifact whose
default image is that image pinned by digest, the image and the chart signed by the project's key and the SBOM
attested with it (cosign verifies them; an unsigned copy and another key do not verify); publishing the same
content again changes nothing, other content under a published version is refused.
"""

from __future__ import annotations

import io
import json
import re
import sys
import tarfile
import uuid

import pytest
import yaml

from hack.release import oci, publish, sbom, sign

from .kube import ROOT, run

HOST = "localhost:5001"
VERSION = publish.version()
LOCKED = dict(re.findall(r"^([a-z0-9_.-]+)==([^ \\]+)", (ROOT / "requirements.lock").read_text(), re.MULTILINE))


@pytest.fixture(scope="module")
def space():
    """A repository path of this module's own in the registry; its manifests and local tags go at the end."""
    space = f"e2e-{uuid.uuid4().hex[:8]}"
    run("hack/cluster/registry.sh", "up")
    yield space
    registry = oci.Registry(HOST)
    repositories = (f"{space}/flask-service", f"{space}/charts/flask-service", f"{space}/unsigned")
    for repository, tag in ((name, VERSION) for name in repositories):
        if found := registry.manifest(repository, tag):
            registry.delete_manifest(repository, found[0])
    # By ID: the refusal test's rebuild leaves the first build untagged (<none>), which no name removes. That
    # rebuild is FROM the published image, and `docker rmi` refuses a parent while its child is there, in
    # whatever order the IDs come: what is left after the first pass goes in a second.
    for _ in range(2):
        if ids := sorted(set(run("docker", "images", "-q", f"{HOST}/{space}/*").stdout.split())):
            run("docker", "rmi", "-f", *ids, check=False)
    assert not run("docker", "images", "-q", f"{HOST}/{space}/*").stdout.split(), "images of the test left behind"


@pytest.fixture(scope="module")
def published(space):
    proc = run("make", "--no-print-directory", "publish", f"REGISTRY={HOST}/{space}", timeout=1200)
    registry = oci.Registry(HOST)
    image = registry.manifest(f"{space}/flask-service", VERSION)
    assert image is not None, proc.stdout
    return registry, image, proc.stdout


def chart_package(registry: oci.Registry, space: str) -> dict[str, bytes]:
    found = registry.manifest(f"{space}/charts/flask-service", VERSION)
    assert found is not None, "the chart was not pushed"
    layer = next(x for x in json.loads(found[2])["layers"] if x["mediaType"] == publish.CHART_LAYER)
    return publish.chart_files(registry.blob(f"{space}/charts/flask-service", layer["digest"]))


def test_sbom_is_attached_and_lists_the_locked_packages(space, published):
    registry, (digest, _, _), _ = published
    referrers = registry.referrers(f"{space}/flask-service", digest, sbom.MEDIA_TYPE)
    assert len(referrers) == 1, referrers
    manifest = json.loads(registry.manifest(f"{space}/flask-service", referrers[0]["digest"])[2])
    assert manifest["subject"]["digest"] == digest
    bom = json.loads(registry.blob(f"{space}/flask-service", manifest["layers"][0]["digest"]))
    assert bom["bomFormat"] == "CycloneDX"
    components = {c["name"].lower(): c for c in bom["components"]}
    for name in ("flask", "gunicorn", "prometheus-flask-exporter"):
        assert components[name]["version"] == LOCKED[name], name
        assert components[name]["purl"] == f"pkg:pypi/{name}@{LOCKED[name]}"
        hashes = [h["content"] for ref in components[name].get("externalReferences", []) for h in ref.get("hashes", [])]
        assert hashes, f"{name}: no hashes from the lock"
    deb = [c for c in bom["components"] if c["purl"].startswith("pkg:deb/debian/")]
    assert any(c["name"] == "libc6" for c in deb), "the base's OS packages are missing"


def test_image_and_chart_are_signed_and_the_sbom_attested(space, published):
    registry, (digest, _, _), _ = published
    image = f"{HOST}/{space}/flask-service@{digest}"
    verified = sign.verify(image)
    assert verified.returncode == 0, verified.stderr
    attested = sign.verify_attestation(image, "cyclonedx")
    assert attested.returncode == 0, attested.stderr
    chart = f"{space}/charts/flask-service"
    verified = sign.verify(f"{HOST}/{chart}@{registry.manifest(chart, VERSION)[0]}")
    assert verified.returncode == 0, verified.stderr


def test_an_unsigned_copy_and_another_key_do_not_verify(space, published, tmp_path):
    _, (digest, _, _), _ = published
    # The same image, pushed where no signature was made: same content, no signature.
    run("docker", "tag", f"{HOST}/{space}/flask-service:{VERSION}", f"{HOST}/{space}/unsigned:{VERSION}")
    run("docker", "push", f"{HOST}/{space}/unsigned:{VERSION}")
    unsigned = sign.verify(f"{HOST}/{space}/unsigned@{digest}")
    assert unsigned.returncode != 0 and "signature" in unsigned.stderr.lower(), unsigned.stderr
    # The signed image, checked with a key that did not sign it.
    sign.cosign("generate-key-pair", "--output-key-prefix", str(tmp_path / "other"))
    foreign = sign.verify(f"{HOST}/{space}/flask-service@{digest}", key=tmp_path / "other.pub")
    assert foreign.returncode != 0 and "signature" in foreign.stderr.lower(), foreign.stderr


def test_chart_pins_the_published_image_by_digest(space, published):
    registry, (digest, _, _), _ = published
    files = chart_package(registry, space)
    meta = yaml.safe_load(files["flask-service/Chart.yaml"])
    assert meta["version"] == meta["appVersion"] == VERSION
    values = yaml.safe_load(files["flask-service/values.yaml"])
    assert values["image"]["repository"] == f"{HOST}/{space}/flask-service"
    assert values["image"]["digest"] == digest
    rendered = run("helm", "template", "x", f"oci://{HOST}/{space}/charts/flask-service", "--version", VERSION,
                   "--plain-http").stdout  # fmt: skip
    assert f'image: "{HOST}/{space}/flask-service@{digest}"' in rendered


def test_publishing_the_same_content_again_changes_nothing(space, published):
    registry, (digest, _, _), _ = published
    proc = run("make", "--no-print-directory", "publish", f"REGISTRY={HOST}/{space}", timeout=1200)
    assert "already published with this content" in proc.stdout
    assert "pushed" not in proc.stdout
    assert registry.manifest(f"{space}/flask-service", VERSION)[0] == digest
    assert len(registry.referrers(f"{space}/flask-service", digest, sbom.MEDIA_TYPE)) == 1


def test_other_content_under_a_published_version_is_refused(space, published, tmp_path):
    registry, (digest, _, _), _ = published
    image = f"{HOST}/{space}/flask-service:{VERSION}"
    (tmp_path / "Dockerfile").write_text(f"FROM {image}\nLABEL org.example.changed=true\n")
    run("docker", "build", "-q", "-t", image, str(tmp_path))
    proc = run(sys.executable, "-m", "hack.release.publish", "publish", image, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "already published with other content" in proc.stderr
    assert registry.manifest(f"{space}/flask-service", VERSION)[0] == digest
    # The chart alone: a package pinned to another digest is refused too, and the published one stays.
    before = chart_package(registry, space)
    with pytest.raises(publish.RefusedError, match=r"chart .* already published with other content"):
        publish.publish_chart(registry, HOST, f"{space}/flask-service", "sha256:" + "0" * 64, snapshot=False)
    assert chart_package(registry, space) == before


def test_chart_files_ignore_the_package_time():
    # helm stamps the time into each package: equal files must compare equal whatever the tar headers say.
    def package(mtime: int) -> bytes:
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w:gz") as tar:
            info = tarfile.TarInfo("flask-service/Chart.yaml")
            info.size, info.mtime = 4, mtime
            tar.addfile(info, io.BytesIO(b"name"))
        return out.getvalue()

    assert package(1) != package(2)
    assert publish.chart_files(package(1)) == publish.chart_files(package(2))
