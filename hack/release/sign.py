"""Signatures with cosign and the project's own key, offline: no transparency log, no timestamp authority,
no certificate authority. The key pair is made on first use, outside git: COSIGN_KEY_DIR, by default the
machine's cache (flask-service/cosign); the private key has an empty password (a development key: a real
release signs with a key from a secret store). The public key, cosign.pub beside it, is what verifies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hack.release import oci

ROOT = Path(__file__).resolve().parents[2]
COSIGN = os.environ.get("COSIGN", str(ROOT / ".tools" / "bin" / "cosign"))
# A signing config that names no Fulcio, Rekor or timestamp service: cosign then signs with the key alone.
SIGNING_CONFIG = {
    "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
    "caUrls": [],
    "oidcUrls": [],
    "rekorTlogUrls": [],
    "tsaUrls": [],
    "rekorTlogConfig": {"selector": "ANY"},
    "tsaConfig": {"selector": "ANY"},
}


def key_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "flask-service" / "cosign"
    return Path(os.environ.get("COSIGN_KEY_DIR", default))


def public_key() -> Path:
    return key_dir() / "cosign.pub"


def cosign(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "COSIGN_PASSWORD": os.environ.get("COSIGN_PASSWORD", "")}
    return subprocess.run([COSIGN, *args], env=env, capture_output=True, text=True, timeout=300, check=check)


def ensure_key() -> Path:
    """The private key, made (with cosign.pub and the signing config) when there is none."""
    directory = key_dir()
    key = directory / "cosign.key"
    if not key.exists():
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        cosign("generate-key-pair", "--output-key-prefix", str(directory / "cosign"))
        print(f"sign: made the key pair {key} (public key {public_key()})", file=sys.stderr)
    config = directory / "signing-config.json"
    if not config.exists():
        config.write_text(json.dumps(SIGNING_CONFIG, indent=2) + "\n")
    return key


def registry_flags(reference: str) -> list[str]:
    host = reference.split("/", 1)[0].split(":")[0]
    return ["--allow-http-registry"] if host in ("localhost", "127.0.0.1") else []


# cosign's legacy layout: a `sha256-<digest>.sig` image beside the signed one, rather than a Sigstore bundle
# in an OCI referrer. Kyverno's verifyImages (the cluster's admission policy, hack/addons/kyverno) reads only
# this one, so what is signed is signed in both; cosign marks the flag deprecated.
LEGACY_LAYOUT = ("--new-bundle-format=false",)


def verify(reference: str, key: Path | None = None, legacy: bool = False) -> subprocess.CompletedProcess:
    """cosign verify of REFERENCE (by digest) with the public key; returncode 0 when a signature verifies (with
    LEGACY, one in the legacy layout)."""
    return cosign(
        "verify", "--key", str(key or public_key()), "--insecure-ignore-tlog", *(LEGACY_LAYOUT if legacy else ()),
        *registry_flags(reference), reference,
        check=False,
    )  # fmt: skip


def verify_attestation(reference: str, predicate_type: str, key: Path | None = None) -> subprocess.CompletedProcess:
    return cosign(
        "verify-attestation", "--key", str(key or public_key()), "--insecure-ignore-tlog", "--type", predicate_type,
        *registry_flags(reference), reference,
        check=False,
    )  # fmt: skip


def by_digest(reference: str) -> str:
    """REFERENCE as registry/repository@sha256:..., the tag dropped when it has both (as Skaffold names a push)."""
    host, repository, ref = oci.split_reference(reference)
    return f"{host}/{repository}@{ref}" if ref.startswith("sha256:") else reference


def sign(reference: str) -> None:
    """Sign REFERENCE (registry/repository@sha256:...), in both layouts, unless signatures by the key verify
    already."""
    key = ensure_key()
    reference = by_digest(reference)
    for legacy, layout in ((False, ()), (True, (*LEGACY_LAYOUT, "--use-signing-config=false", "--tlog-upload=false"))):
        if verify(reference, legacy=legacy).returncode == 0:
            print(f"sign: {reference} is signed already{' (legacy layout)' if legacy else ''}")
            continue
        config = () if legacy else ("--signing-config", str(key_dir() / "signing-config.json"))
        cosign("sign", "--key", str(key), *config, *layout, "--yes", *registry_flags(reference), reference)
        print(f"sign: signed {reference}{' (legacy layout)' if legacy else ''}")


def attest(reference: str, predicate: bytes, predicate_type: str) -> None:
    """Attach PREDICATE (e.g. the SBOM) to REFERENCE as an attestation signed with the key, once."""
    key = ensure_key()
    if verify_attestation(reference, predicate_type).returncode == 0:
        print(f"sign: {reference} has a signed {predicate_type} attestation already")
        return
    path = key_dir() / "predicate.json"
    path.write_bytes(predicate)
    cosign(
        "attest", "--key", str(key), "--signing-config", str(key_dir() / "signing-config.json"), "--yes",
        "--type", predicate_type, "--predicate", str(path), *registry_flags(reference), reference,
    )  # fmt: skip
    print(f"sign: attested {predicate_type} for {reference}")


def main() -> int:
    """python -m hack.release.sign sign REFERENCE: what Skaffold's post-build hook runs on what it pushed.
    python -m hack.release.sign public-key: the path of the key that verifies (the pair made if there is none)."""
    if sys.argv[1:] == ["public-key"]:
        ensure_key()
        print(public_key())
        return 0
    if len(sys.argv) != 3 or sys.argv[1] != "sign":
        print("usage: python -m hack.release.sign sign REGISTRY/REPOSITORY[:TAG|@DIGEST] | public-key", file=sys.stderr)
        return 2
    sign(sys.argv[2])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
