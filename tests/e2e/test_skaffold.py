"""skaffold.yaml's post-deploy check: `skaffold verify` runs a Job that fetches the pages through the Service."""

from __future__ import annotations

import json

from .kube import CONTEXT, NAMESPACE, run


def test_skaffold_verify_passes(release, tmp_path):
    # `skaffold verify` has no --kube-context: both commands get a kubeconfig holding only the test
    # cluster (build also reads the context, to load the image into kind instead of pushing it).
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(run("kubectl", "config", "view", "--minify", "--flatten", "--context", CONTEXT).stdout)
    env = {"KUBECONFIG": str(kubeconfig)}
    artifacts = tmp_path / "build.json"
    # The image of the deployed release: an unchanged tree rebuilds nothing.
    run("skaffold", "build", "--quiet", f"--file-output={artifacts}", "--update-check=false", env=env, timeout=1200)
    assert [b["imageName"] for b in json.loads(artifacts.read_text())["builds"]] == ["flask-service"]

    proc = run("skaffold", "verify", "-a", str(artifacts), "--namespace", NAMESPACE, env=env, timeout=300)
    for path in ("/", "/next", "/readyz"):
        assert f"[pages-through-service] {path} ok" in proc.stdout, proc.stdout
