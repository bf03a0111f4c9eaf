"""Publish the service to an OCI registry: the image under its version tag, its SBOM attached to it
as a referrer, and the Helm chart as an OCI artifact whose default image is that image, pinned by
digest. The version of all three is service/version.py's VERSION (the chart's version and appVersion).
The image and the chart are signed by digest with the project's key, and the SBOM is attached again as
an attestation signed with it (hack/release/sign.py; cosign, offline).

    python -m hack.release.publish publish IMAGE [--snapshot]   IMAGE: REGISTRY/flask-service:VERSION, built
    python -m hack.release.publish package-chart REPOSITORY DIGEST [-d DIR]

A published version is immutable: publishing it again with the same content changes nothing, with
other content is refused (exit 3) unless --snapshot, which `make up` uses for the local registry's
development copy of the working tree. The image is compared by its config digest (its content), the
chart by the files in its package (helm stamps a new time into every package it makes).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from hack.release import oci, sbom, sign

ROOT = Path(__file__).resolve().parents[2]
DOCKER = os.environ.get("DOCKER", "docker")
HELM = os.environ.get("HELM", str(ROOT / ".tools" / "bin" / "helm"))
CHART_NAME = "flask-service"
CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


class RefusedError(RuntimeError):
    pass


def version() -> str:
    text = (ROOT / "service" / "version.py").read_text()
    return re.search(r'^VERSION = "(.+)"$', text, re.MULTILINE).group(1)


def run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=600).stdout


def package_chart(repository: str, digest: str, out: Path) -> Path:
    """chart/ packaged at VERSION with its default image set to repository@digest."""
    with tempfile.TemporaryDirectory() as tmp:
        chart = Path(tmp) / CHART_NAME
        shutil.copytree(ROOT / "chart", chart)
        values = chart / "values.yaml"
        text, count = re.subn(
            r"^(image:\n(?:  .*\n)*?)  repository: .*\n((?:  .*\n)*?)  digest: .*\n",
            lambda m: f'{m[1]}  repository: {repository}\n{m[2]}  digest: "{digest}"\n',
            values.read_text(),
            flags=re.MULTILINE,
        )
        if count != 1:
            raise RuntimeError("chart/values.yaml: image.repository and image.digest not found")
        values.write_text(text)
        v = version()
        out.mkdir(parents=True, exist_ok=True)
        run(HELM, "package", str(chart), "--version", v, "--app-version", v, "-d", str(out))
    return out / f"{CHART_NAME}-{v}.tgz"


def chart_files(package: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(package), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def plain_http(host: str) -> list[str]:
    return ["--plain-http"] if host.split(":")[0] in ("localhost", "127.0.0.1") else []


def publish_image(registry: oci.Registry, image: str, snapshot: bool) -> tuple[str, str, int]:
    _, repository, tag = oci.split_reference(image)
    local_config = run(DOCKER, "image", "inspect", "--format", "{{.Id}}", image).strip()
    found = registry.manifest(repository, tag)
    if found:
        config = json.loads(found[2]).get("config", {}).get("digest")
        if config == local_config:
            print(f"publish: {image} is already published with this content ({found[0]})")
            return found[0], found[1], len(found[2])
        if not snapshot:
            raise RefusedError(
                f"{image} is already published with other content ({found[0]}); "
                "a version is published once: bump VERSION in service/version.py"
            )
    run(DOCKER, "push", image)
    digest, media_type, body = registry.manifest(repository, tag)
    print(f"publish: pushed {image} ({digest})")
    return digest, media_type, len(body)


def publish_sbom(registry: oci.Registry, image: str, subject: tuple[str, str, int]) -> bytes:
    """The image's SBOM, attached to it as a referrer (once: an image digest names its content)."""
    _, repository, _ = oci.split_reference(image)
    attached = registry.referrers(repository, subject[0], sbom.MEDIA_TYPE)
    if attached:
        print(f"publish: SBOM already attached ({attached[0]['digest']})")
        return registry.blob(
            repository, json.loads(registry.manifest(repository, attached[0]["digest"])[2])["layers"][0]["digest"]
        )
    data = (json.dumps(sbom.image_bom(image), indent=2, sort_keys=True) + "\n").encode()
    digest = registry.attach(repository, subject, sbom.MEDIA_TYPE, data)
    print(f"publish: SBOM attached to {subject[0]} ({digest}, {len(data)} bytes)")
    return data


def charts_repository(image_repository: str) -> str:
    """Charts live beside the image: host/a/flask-service -> host/a/charts (helm adds /flask-service)."""
    parent = image_repository.rpartition("/")[0]
    return f"{parent}/charts" if parent else "charts"


def publish_chart(registry: oci.Registry, host: str, image_repository: str, digest: str, snapshot: bool) -> str:
    repository = charts_repository(image_repository)
    reference = f"oci://{host}/{repository}"
    with tempfile.TemporaryDirectory() as tmp:
        package = package_chart(f"{host}/{image_repository}", digest, Path(tmp))
        found = registry.manifest(f"{repository}/{CHART_NAME}", version())
        if found:
            layer = next(x for x in json.loads(found[2])["layers"] if x["mediaType"] == CHART_LAYER)
            published = registry.blob(f"{repository}/{CHART_NAME}", layer["digest"])
            if chart_files(published) == chart_files(package.read_bytes()):
                print(f"publish: chart {reference}/{CHART_NAME}:{version()} is already published with this content")
                return reference
            if not snapshot:
                raise RefusedError(
                    f"chart {reference}/{CHART_NAME}:{version()} is already published with other content; "
                    "a version is published once: bump VERSION in service/version.py"
                )
        run(HELM, "push", str(package), reference, *plain_http(host))
    print(f"publish: pushed chart {reference}/{CHART_NAME}:{version()} (image {host}/{image_repository}@{digest})")
    return reference


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    pub = commands.add_parser("publish", help="image, SBOM and chart to the image's registry")
    pub.add_argument("image", help="REGISTRY/REPOSITORY:VERSION, already built")
    pub.add_argument("--snapshot", action="store_true", help="replace a published version's content")
    pkg = commands.add_parser("package-chart", help="package the chart with its default image pinned")
    pkg.add_argument("repository")
    pkg.add_argument("digest")
    pkg.add_argument("-d", "--destination", type=Path, default=ROOT / "dist")
    args = parser.parse_args()

    if args.command == "package-chart":
        print(package_chart(args.repository, args.digest, args.destination))
        return 0
    host, repository, tag = oci.split_reference(args.image)
    if tag != version():
        parser.error(f"{args.image}: the tag must be the version, {version()}")
    registry = oci.Registry(host)
    try:
        subject = publish_image(registry, args.image, args.snapshot)
        bom = publish_sbom(registry, args.image, subject)
        publish_chart(registry, host, repository, subject[0], args.snapshot)
        image = f"{host}/{repository}@{subject[0]}"
        sign.sign(image)
        sign.attest(image, bom, "cyclonedx")
        chart = f"{charts_repository(repository)}/{CHART_NAME}"
        sign.sign(f"{host}/{chart}@{registry.manifest(chart, version())[0]}")
    except RefusedError as refusal:
        print(f"publish: refused: {refusal}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
