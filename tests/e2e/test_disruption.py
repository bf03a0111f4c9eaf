"""Availability while pods are replaced: a rolling upgrade and a pod deletion under a bounded load.

Both tests change the release and get it back at its previous revision afterwards (restore_release).
"""

from __future__ import annotations

import time
import uuid

from .kube import INSTANCE_SELECTOR, NAMESPACE, RELEASE, helm, pod_get, ready_targets, wait_rollout, wait_until
from .load import Load

SETTLE_SECONDS = 3  # load keeps running this long after the change is complete


def failure_report(result) -> str:
    return f"{len(result.failures)} failed of {result.ok + len(result.failures)}: {result.failures[:5]}"


def serving_pods(core) -> set[str]:
    pods = core.list_namespaced_pod(NAMESPACE, label_selector=f"{INSTANCE_SELECTOR},app.kubernetes.io/name={RELEASE}")
    return {p.metadata.name for p in pods.items if p.metadata.deletion_timestamp is None}


def test_rolling_upgrade_under_load_loses_no_request(api, core, apps, discovery, restore_release):
    heading = f"Rolled out {uuid.uuid4().hex[:8]}"
    old_pods = serving_pods(core)

    with Load(api) as load:
        time.sleep(SETTLE_SECONDS)
        # A new heading changes the ConfigMap, so its checksum annotation, so the pod template.
        helm("upgrade", RELEASE, "chart", "--reuse-values", "--set-string", f"config.welcomeHeading={heading}")
        wait_rollout(apps)
        time.sleep(SETTLE_SECONDS)
        result = load.stop()

    new_pods = serving_pods(core)
    print(f"rolling upgrade: {result.ok} requests served by {dict(result.pods)}")
    assert not result.failures, failure_report(result)
    assert new_pods.isdisjoint(old_pods), "the upgrade did not replace the pods"
    served_by = set(result.pods)
    assert served_by & old_pods and served_by & new_pods, f"load did not span the rollout: {result.pods}"
    for target in ready_targets(core, discovery):
        assert f"<h1>{heading}</h1>" in pod_get(target, "/").body


def test_pod_deletion_with_two_replicas_loses_no_request(api, core, apps, restore_release):
    helm("upgrade", RELEASE, "chart", "--reuse-values", "--set", "replicaCount=2")
    wait_rollout(apps)
    pods = sorted(serving_pods(core))
    assert len(pods) == 2

    with Load(api) as load:
        time.sleep(SETTLE_SECONDS)
        core.delete_namespaced_pod(pods[0], NAMESPACE)
        # Back to two available replicas, the deleted pod gone for good.
        wait_until(
            "the deleted pod to be replaced",
            lambda: None if pods[0] not in serving_pods(core) and len(serving_pods(core)) == 2 else "replacing",
            timeout=180,
        )
        wait_rollout(apps)
        time.sleep(SETTLE_SECONDS)
        result = load.stop()

    assert not result.failures, failure_report(result)
    print(f"pod deletion: {result.ok} requests served by {dict(result.pods)}")
    assert pods[1] in result.pods, f"load never reached the surviving pod: {result.pods}"
    assert result.ok >= 10, f"too little load to mean anything: {result.ok} requests"
