"""A small client of the OCI distribution API, for what docker and helm do not do: read a manifest
by tag, push an artifact that refers to an image (an SBOM) and list an image's referrers.

Anonymous access only: the local registry beside the kind cluster (hack/cluster/registry.sh). A registry on
localhost or 127.0.0.1 is spoken to over plain HTTP, any other over HTTPS.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
MANIFEST_TYPES = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST)
TIMEOUT = 30


class RegistryError(RuntimeError):
    pass


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def split_reference(reference: str) -> tuple[str, str, str]:
    """`host[:port]/repo/path:tag` (or `@sha256:…`, or `:tag@sha256:…`) -> (host, repository, tag or digest)."""
    if "@" in reference:
        name, ref = reference.split("@", 1)
        head, _, last = name.rpartition("/")
        name = f"{head}/{last.partition(':')[0]}" if head else name
    else:
        name, _, ref = reference.rpartition(":")
        if not name or "/" in ref:
            raise RegistryError(f"{reference!r} has no tag")
    host, _, repository = name.partition("/")
    if not repository:
        raise RegistryError(f"{reference!r} names no registry host")
    return host, repository, ref


class Registry:
    def __init__(self, host: str):
        local = host.split(":")[0] in ("localhost", "127.0.0.1")
        self.base = f"{'http' if local else 'https'}://{host}/v2"

    def _request(self, method: str, path: str, data: bytes | None = None, headers=None):
        url = path if path.startswith("http") else self.base + path
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310 - the registry's own URL
        try:
            return urllib.request.urlopen(request, timeout=TIMEOUT)  # noqa: S310
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise RegistryError(f"{method} {url}: {error.code} {error.read()[:300]!r}") from None

    def manifest(self, repository: str, ref: str) -> tuple[str, str, bytes] | None:
        """(digest, media type, body) of a manifest by tag or digest, or None when there is none."""
        response = self._request("GET", f"/{repository}/manifests/{ref}", headers={"Accept": ", ".join(MANIFEST_TYPES)})
        if response is None:
            return None
        with response:
            body = response.read()
            media_type = response.headers.get("Content-Type", "").split(";")[0]
        return digest_of(body), media_type, body

    def blob(self, repository: str, digest: str) -> bytes:
        response = self._request("GET", f"/{repository}/blobs/{digest}")
        if response is None:
            raise RegistryError(f"{repository}: blob {digest} not found")
        with response:
            data = response.read()
        if digest_of(data) != digest:
            raise RegistryError(f"{repository}: blob {digest} came back with other content")
        return data

    def push_blob(self, repository: str, data: bytes) -> str:
        digest = digest_of(data)
        if self._request("HEAD", f"/{repository}/blobs/{digest}") is not None:
            return digest
        with self._request("POST", f"/{repository}/blobs/uploads/") as response:
            location = urllib.parse.urljoin(self.base, response.headers["Location"])
        separator = "&" if "?" in location else "?"
        headers = {"Content-Type": "application/octet-stream"}
        self._request("PUT", f"{location}{separator}digest={digest}", data=data, headers=headers).close()
        return digest

    def push_manifest(self, repository: str, ref: str, manifest: dict) -> str:
        body = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
        headers = {"Content-Type": manifest["mediaType"]}
        self._request("PUT", f"/{repository}/manifests/{ref}", data=body, headers=headers).close()
        return digest_of(body)

    def delete_manifest(self, repository: str, digest: str) -> None:
        response = self._request("DELETE", f"/{repository}/manifests/{digest}")
        if response is not None:
            response.close()

    def referrers(self, repository: str, digest: str, artifact_type: str) -> list[dict]:
        """Manifests that name `digest` as their subject, of one artifact type: from the OCI 1.1 referrers
        API, or, where the registry lacks it (Distribution 3.1 does), from the spec's fallback, an index
        tagged `sha256-<hex>` that the pushing client keeps."""
        query = urllib.parse.urlencode({"artifactType": artifact_type})
        response = self._request("GET", f"/{repository}/referrers/{digest}?{query}")
        if response is not None:
            with response:
                index = json.load(response)
        else:
            index = self._fallback_index(repository, digest)
        return [m for m in index.get("manifests", []) if m.get("artifactType") == artifact_type]

    @staticmethod
    def _fallback_tag(digest: str) -> str:
        return digest.replace(":", "-")

    def _fallback_index(self, repository: str, digest: str) -> dict:
        found = self.manifest(repository, self._fallback_tag(digest))
        return json.loads(found[2]) if found else {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}

    def attach(self, repository: str, subject: tuple[str, str, int], artifact_type: str, data: bytes) -> str:
        """Push `data` as an artifact whose subject is the manifest (digest, media type, size); its digest."""
        empty = b"{}"
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": EMPTY_CONFIG, "digest": self.push_blob(repository, empty), "size": len(empty)},
            "layers": [{"mediaType": artifact_type, "digest": self.push_blob(repository, data), "size": len(data)}],
            "subject": {"digest": subject[0], "mediaType": subject[1], "size": subject[2]},
        }
        body = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
        digest = self.push_manifest(repository, digest_of(body), manifest)
        probe = self._request("GET", f"/{repository}/referrers/{subject[0]}")
        if probe is None:  # no referrers API: keep the fallback index up to date
            index = self._fallback_index(repository, subject[0])
            if all(m["digest"] != digest for m in index["manifests"]):
                descriptor = {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(body)}
                index["manifests"].append(descriptor | {"artifactType": artifact_type})
                self.push_manifest(repository, self._fallback_tag(subject[0]), index)
        else:
            probe.close()
        return digest
