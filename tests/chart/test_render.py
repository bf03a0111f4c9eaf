"""Render the chart with real `helm template` and check the objects it produces."""

import pytest

from tests.chart.chartlib import (
    CHART,
    CI_VALUES,
    RELEASE,
    app_pod,
    by_kind,
    env_values,
    front_container,
    one,
    run_helm,
    template_args,
)

CHART_META = __import__("yaml").safe_load((CHART / "Chart.yaml").read_text())
SELECTOR = {"app.kubernetes.io/name": "flask-service", "app.kubernetes.io/instance": RELEASE}
ALL_VALUE_SETS = [None, *CI_VALUES]


def values_id(path):
    return path.name if path else "defaults"


def pod_specs(objects):
    """Every pod spec in the output: Deployment templates and bare Pods (the helm test pod)."""
    for obj in objects:
        if obj["kind"] == "Deployment":
            yield obj["metadata"]["name"], obj["spec"]["template"]["spec"]
        elif obj["kind"] == "Pod":
            yield obj["metadata"]["name"], obj["spec"]


# --- Pod Security "restricted" -------------------------------------------------------------------


@pytest.mark.parametrize("values", ALL_VALUE_SETS, ids=values_id)
def test_every_pod_meets_the_restricted_profile(render, values):
    objects = render(files=[values] if values else [])
    specs = list(pod_specs(objects))
    assert len(specs) == 2, "expected the Deployment and the helm test pod"
    for name, spec in specs:
        pod_sc = spec["securityContext"]
        assert spec["automountServiceAccountToken"] is False, name
        assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC"), name
        assert pod_sc["runAsNonRoot"] is True, name
        assert pod_sc["runAsUser"] == 10001 and pod_sc["runAsGroup"] == 10001, name
        assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for volume in spec.get("volumes", []):
            assert set(volume) - {"name"} <= {"emptyDir", "configMap", "secret", "projected"}, (name, volume)
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 10001, name
            assert sc["capabilities"] == {"drop": ["ALL"]}, name
            assert not sc.get("privileged"), name
            assert "hostPort" not in str(container.get("ports", [])), name


def test_writable_paths_are_memory_emptydirs(render):
    spec, container = app_pod(render())
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert set(mounts) == {"/tmp", "/dev/shm"}
    for path in ("/tmp", "/dev/shm"):
        assert volumes[mounts[path]]["emptyDir"]["medium"] == "Memory", path
        assert volumes[mounts[path]]["emptyDir"]["sizeLimit"], path
    env = env_values(container)
    # The multiprocess metrics dir must sit on the writable /tmp emptyDir.
    assert env["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")


# --- probes, ports, resources, shutdown --------------------------------------------------------------


@pytest.mark.parametrize("front", [True, False])
def test_probes_use_the_service_endpoints(render, front):
    # Behind the front, gunicorn is probed on its own port: a probe through the front would also pass while
    # gunicorn is gone and the front resends.
    port = "upstream" if front else "http"
    _, container = app_pod(render(values={"front.enabled": front}))
    assert container["startupProbe"]["httpGet"] == {"path": "/livez", "port": port}
    assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": port}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
    # The startup probe must give the server time to boot before liveness can kill it.
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 30


def test_ports_and_service(render):
    objects = render()
    spec, container = app_pod(objects)
    assert container["ports"] == [{"name": "upstream", "containerPort": 8080, "protocol": "TCP"}]
    assert {"name": "PORT", "value": "8080"} in container["env"]
    assert front_container(spec)["ports"] == [{"name": "http", "containerPort": 5000, "protocol": "TCP"}]
    service = one(objects, "Service")
    assert service["metadata"]["name"] == "flask-service"
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "http", "port": 5000, "targetPort": "http", "protocol": "TCP"}]


def test_resources_have_requests_and_limits(render):
    _, container = app_pod(render())
    for section in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][section]), section


def gunicorn_prestop_seconds(container) -> int:
    """The longest gunicorn's preStop hook can take: its sleep, or behind the front await-exit.sh's SLEEP + DRAIN."""
    hook = container["lifecycle"]["preStop"]
    if "sleep" in hook:
        return hook["sleep"]["seconds"]
    script, sleep, drain, _marker = hook["exec"]["command"]
    assert script == "/app/front/await-exit.sh"
    return int(sleep) + int(drain)


@pytest.mark.parametrize("front", [True, False])
def test_termination_grace_covers_prestop_and_graceful_timeout(render, front):
    values = render(files=[], values={"front.enabled": front})
    spec, container = app_pod(values)
    sleep = gunicorn_prestop_seconds(container)
    assert sleep >= (20 if front else 10)
    config = one(values, "ConfigMap")["data"]
    needed = sleep + int(config["SHUTDOWN_DELAY"]) + int(config["GRACEFUL_TIMEOUT"])
    assert spec["terminationGracePeriodSeconds"] > needed
    # Raising the graceful timeout raises the computed grace period with it.
    spec2, _ = app_pod(render(values={"config.gracefulTimeout": 50, "front.enabled": front}))
    assert spec2["terminationGracePeriodSeconds"] > sleep + 50


def test_too_short_termination_grace_is_refused(helm):
    result = run_helm(helm, *template_args(values={"terminationGracePeriodSeconds": 10}), check=False)
    assert result.returncode != 0
    assert "terminationGracePeriodSeconds (10) must be larger than" in result.stderr


def test_prestop_hook_can_be_disabled(render):
    spec, container = app_pod(render(values={"preStopSleepSeconds": 0, "front.enabled": False}))
    assert "lifecycle" not in container
    assert [c["name"] for c in spec["containers"]] == ["flask-service"]
    # With the front, gunicorn still waits for the front's drain.
    spec, container = app_pod(render(values={"preStopSleepSeconds": 0, "front.drainSeconds": 7}))
    assert gunicorn_prestop_seconds(container) == 7
    assert "lifecycle" not in front_container(spec)


# --- the front ---------------------------------------------------------------------------------------


def test_the_front_runs_the_same_image_in_front_of_gunicorn(render):
    objects = render(values={"config.headerTimeout": 2.5, "config.timeout": 40, "front.upstreamPort": 9000})
    spec, container = app_pod(objects)
    front = front_container(spec)
    assert front["image"] == container["image"]
    assert front["command"] == ["/app/front/start.sh"]
    assert front["securityContext"] == container["securityContext"]
    env = env_values(front)
    assert env == {
        "FRONT_PORT": "5000",
        "UPSTREAM_PORT": "9000",
        "HEADER_TIMEOUT_MS": "2500",
        "UPSTREAM_TIMEOUT_MS": "45000",
        "DRAIN_SECONDS": "10",
        "FRONT_EXITED": "/tmp/front.exited",
    }
    assert container["ports"][0]["containerPort"] == 9000
    assert {"name": "PORT", "value": "9000"} in container["env"]
    assert {"name": "PROXY_PROTOCOL", "value": "true"} in container["env"]
    assert front["readinessProbe"]["tcpSocket"] == {"port": "http"}
    for section in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(front["resources"][section]), section
    annotations = one(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/default-container"] == container["name"]


def test_gunicorn_outlives_the_front_at_shutdown(render):
    spec, container = app_pod(render(values={"preStopSleepSeconds": 10, "front.drainSeconds": 12}))
    front = front_container(spec)
    assert front["lifecycle"]["preStop"]["sleep"]["seconds"] == 10
    # gunicorn waits the same 10 s, then until the front has left its marker on the shared /tmp, at most 12 s.
    marker = env_values(front)["FRONT_EXITED"]
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["/app/front/await-exit.sh", "10", "12", marker]
    shared = {m["name"] for m in front["volumeMounts"]} & {m["name"] for m in container["volumeMounts"]}
    assert marker.startswith("/tmp/") and shared == {"tmp"}
    assert spec["terminationGracePeriodSeconds"] > 22 + 20  # + gunicorn's graceful timeout


@pytest.mark.parametrize("port", [5000, 80])
def test_the_upstream_port_must_not_clash(helm, port):
    result = run_helm(helm, *template_args(values={"front.upstreamPort": port}), check=False)
    assert result.returncode != 0
    assert "upstreamPort" in result.stderr


def test_rollout_never_drops_below_the_replica_count(render):
    strategy = one(render(), "Deployment")["spec"]["strategy"]
    assert strategy["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}


# --- labels and selectors ---------------------------------------------------------------------------


@pytest.mark.parametrize("values", ALL_VALUE_SETS, ids=values_id)
def test_standard_labels_on_every_object(render, values):
    for obj in render(files=[values] if values else []):
        labels = obj["metadata"]["labels"]
        assert labels["helm.sh/chart"] == f"flask-service-{CHART_META['version']}", obj["kind"]
        assert labels["app.kubernetes.io/managed-by"] == "Helm", obj["kind"]
        assert labels["app.kubernetes.io/instance"] == RELEASE, obj["kind"]
        assert labels["app.kubernetes.io/name"].startswith("flask-service"), obj["kind"]


@pytest.mark.parametrize("values", ALL_VALUE_SETS, ids=values_id)
def test_selectors_match_the_pods(render, values):
    objects = render(files=[values] if values else [])
    deployment = one(objects, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == SELECTOR
    assert SELECTOR.items() <= pod_labels.items()
    assert one(objects, "Service")["spec"]["selector"] == SELECTOR
    for kind in ("PodDisruptionBudget",):
        for obj in by_kind(objects, kind):
            assert obj["spec"]["selector"]["matchLabels"] == SELECTOR, kind
    for policy in by_kind(objects, "NetworkPolicy"):
        assert policy["spec"]["podSelector"]["matchLabels"] == SELECTOR
    for monitor in by_kind(objects, "ServiceMonitor"):
        service_labels = one(objects, "Service")["metadata"]["labels"]
        assert monitor["spec"]["selector"]["matchLabels"].items() <= service_labels.items()
    for hpa in by_kind(objects, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": deployment["metadata"]["name"],
        }
    # The test pod must not be picked up by the Service as a backend.
    test_pod = one(objects, "Pod")
    assert not SELECTOR.items() <= test_pod["metadata"]["labels"].items()


def test_names_follow_the_release(render):
    assert one(render(), "Deployment")["metadata"]["name"] == "flask-service"
    assert one(render(values={"fullnameOverride": "web"}), "Service")["metadata"]["name"] == "web"


# --- image reference ---------------------------------------------------------------------------------


DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ({}, f"localhost:5001/flask-service:{CHART_META['appVersion']}"),
        ({"image.tag": "1.2.3"}, "localhost:5001/flask-service:1.2.3"),
        ({"image.repository": "registry.example.com/app", "image.tag": "abc"}, "registry.example.com/app:abc"),
        # The digest decides what runs; a tag given with it stays in the reference, as Skaffold writes it.
        ({"image.tag": "1.2.3", "image.digest": DIGEST}, f"localhost:5001/flask-service:1.2.3@{DIGEST}"),
        ({"image.digest": DIGEST}, f"localhost:5001/flask-service@{DIGEST}"),
    ],
    ids=["default-appversion", "tag", "repository", "digest-with-tag", "digest"],
)
def test_image_reference(render, image, expected):
    objects = render(values=image)
    _, container = app_pod(objects)
    assert container["image"] == expected
    assert container["imagePullPolicy"] == "IfNotPresent"
    # The helm test pod runs the same image (the cluster has it; nothing else is pulled).
    assert one(objects, "Pod")["spec"]["containers"][0]["image"] == expected


def test_latest_tag_is_refused(helm):
    result = run_helm(helm, *template_args(values={"image.tag": "latest"}), check=False)
    assert result.returncode != 0
    assert 'image.tag: "latest" is refused' in result.stderr


# --- config and checksum -----------------------------------------------------------------------------


def test_configmap_carries_the_settings(render):
    objects = render(values={"config.welcomeHeading": "Hello", "config.workers": 3, "config.logLevel": "debug"})
    data = one(objects, "ConfigMap")["data"]
    assert data["WELCOME_HEADING"] == "Hello"
    assert data["NEXT_HEADING"] == "Publishing the docker container to GITHUB"
    assert data["WEB_CONCURRENCY"] == "3"
    assert data["LOG_LEVEL"] == "debug"
    assert data["FAULTS_ENABLED"] == "false"  # the fault routes are off unless asked for
    assert all(isinstance(v, str) for v in data.values())
    assert one(render(values={"config.faultsEnabled": True}), "ConfigMap")["data"]["FAULTS_ENABLED"] == "true"
    _, container = app_pod(objects)
    assert container["envFrom"] == [{"configMapRef": {"name": one(objects, "ConfigMap")["metadata"]["name"]}}]


def test_tracing_is_off_by_default_and_passed_as_otel_variables(render):
    assert not [k for k in one(render(), "ConfigMap")["data"] if k.startswith("OTEL_")]
    values = {
        "tracing.endpoint": "http://otel-collector.observability:4318",
        "tracing.sampler": "traceidratio",
        "tracing.samplerArg": 0.25,
    }
    data = one(render(values=values), "ConfigMap")["data"]
    assert data["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability:4318"
    assert data["OTEL_TRACES_SAMPLER"] == "traceidratio"
    assert data["OTEL_TRACES_SAMPLER_ARG"] == "0.25"
    assert "OTEL_SERVICE_NAME" not in data
    # The spans name their pod, namespace and node, from the downward API; off, nothing of it is set.
    env = {e["name"]: e for e in app_pod(render(values=values))[1]["env"]}
    assert env["OTEL_RESOURCE_ATTRIBUTES"]["value"] == (
        "k8s.pod.name=$(K8S_POD_NAME),k8s.namespace.name=$(K8S_NAMESPACE_NAME),k8s.node.name=$(K8S_NODE_NAME)"
    )
    assert env["K8S_POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert "OTEL_RESOURCE_ATTRIBUTES" not in env_values(app_pod(render())[1])


@pytest.mark.parametrize(
    "values", [{"tracing.endpoint": "collector:4318"}, {"tracing.sampler": "sometimes"}, {"tracing.samplerArg": 2}]
)
def test_bad_tracing_values_are_refused(helm, values):
    assert run_helm(helm, *template_args(values=values), check=False).returncode != 0


def checksum(objects):
    return one(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]


@pytest.mark.parametrize(
    "change",
    [
        {"config.welcomeHeading": "Another heading"},
        {"config.nextHeading": "Another next heading"},
        {"config.workers": 4},
        {"config.logLevel": "warning"},
    ],
)
def test_config_change_changes_the_checksum(render, change):
    assert checksum(render(values=change)) != checksum(render())


def test_checksum_is_stable_when_config_does_not_change(render):
    assert checksum(render(values={"replicaCount": 3})) == checksum(render())


# --- ServiceMonitor and scrape annotations ------------------------------------------------------------

SERVICE_MONITOR_API = "monitoring.coreos.com/v1/ServiceMonitor"


@pytest.mark.parametrize(
    ("values", "api_versions", "expected"),
    [
        ({}, [], False),
        ({}, [SERVICE_MONITOR_API], True),
        ({"metrics.serviceMonitor.force": True}, [], True),
        ({"metrics.serviceMonitor.enabled": False}, [SERVICE_MONITOR_API], False),
        ({"metrics.serviceMonitor.enabled": False, "metrics.serviceMonitor.force": True}, [], False),
    ],
    ids=["no-api", "api", "forced", "disabled-with-api", "disabled-but-forced"],
)
def test_service_monitor_only_with_the_api_or_forced(render, values, api_versions, expected):
    monitors = by_kind(render(values=values, api_versions=api_versions), "ServiceMonitor")
    assert len(monitors) == (1 if expected else 0)
    if expected:
        monitor = monitors[0]
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["spec"]["endpoints"][0]["port"] == "http"
        assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
        assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["chart-test"]}


def test_scrape_annotations(render):
    annotations = one(render(), "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == "5000"
    assert annotations["prometheus.io/path"] == "/metrics"
    off = one(render(values={"metrics.scrapeAnnotations": False}), "Deployment")
    assert not any(k.startswith("prometheus.io/") for k in off["spec"]["template"]["metadata"]["annotations"])


# --- PodDisruptionBudget -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"replicaCount": 1, "podDisruptionBudget.minAvailable": 1}, None),
        ({"replicaCount": 2, "podDisruptionBudget.minAvailable": 1}, {"minAvailable": 1}),
        ({"replicaCount": 3, "podDisruptionBudget.minAvailable": 3}, None),
        ({"replicaCount": 2, "podDisruptionBudget.minAvailable": "50%"}, {"minAvailable": "50%"}),
        ({"replicaCount": 2, "podDisruptionBudget.minAvailable": "60%"}, None),  # rounds up to 2 of 2
        (
            {"replicaCount": 1, "podDisruptionBudget.minAvailable": None, "podDisruptionBudget.maxUnavailable": 1},
            {"maxUnavailable": 1},
        ),
        ({"replicaCount": 3, "podDisruptionBudget.maxUnavailable": "0%"}, None),
        ({"replicaCount": 3, "podDisruptionBudget.maxUnavailable": 0}, None),
        ({"replicaCount": 1, "autoscaling.enabled": True, "autoscaling.minReplicas": 2}, {"minAvailable": 1}),
        ({"replicaCount": 3, "podDisruptionBudget.enabled": False}, None),
    ],
    ids=[
        "1-of-1",
        "1-of-2",
        "3-of-3",
        "50pct-of-2",
        "60pct-of-2",
        "maxUnavailable-1-single",
        "maxUnavailable-0pct",
        "maxUnavailable-0",
        "hpa-min-2",
        "disabled",
    ],
)
def test_pdb_only_when_it_cannot_block_drains(render, values, expected):
    budgets = by_kind(render(values=values), "PodDisruptionBudget")
    if expected is None:
        assert budgets == []
    else:
        assert len(budgets) == 1
        spec = budgets[0]["spec"]
        assert {k: v for k, v in spec.items() if k != "selector"} == expected


# --- NetworkPolicy -----------------------------------------------------------------------------------


def test_network_policy_default(render):
    objects = render()
    policy = one(objects, "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress"]
    rules = policy["ingress"]
    for rule in rules:
        assert rule["from"], "an empty 'from' would admit every source"
        assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    peers = [rule["from"] for rule in rules]
    assert [{"podSelector": {}}] in peers  # same-namespace clients
    assert [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}] in peers
    # The helm test pod is admitted by exactly its labels.
    test_labels = one(objects, "Pod")["metadata"]["labels"]
    test_rules = [p for p in peers if "podSelector" in p[0] and p[0]["podSelector"].get("matchLabels")]
    assert len(test_rules) == 1
    assert test_rules[0][0]["podSelector"]["matchLabels"].items() <= test_labels.items()


def test_network_policy_custom_peers(render):
    frontend = {"podSelector": {"matchLabels": {"app": "frontend"}}}
    policy = one(
        render(values={"networkPolicy.ingressFrom": [frontend], "networkPolicy.metricsFrom": []}), "NetworkPolicy"
    )["spec"]
    peers = [rule["from"] for rule in policy["ingress"]]
    assert peers[0] == [frontend]
    assert len(peers) == 2  # the custom peers and the test pod; no metrics rule, no catch-all
    assert all(peers)


TRAEFIK_PEER = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "traefik"}}}


@pytest.mark.parametrize("route", ["ingress", "httpRoute"])
def test_network_policy_admits_the_routing_controller(render, route):
    # The controller sends to the pod endpoints, not the Service: with a route, its namespace is admitted.
    peers = [r["from"] for r in one(render(values={f"{route}.enabled": True}), "NetworkPolicy")["spec"]["ingress"]]
    assert [TRAEFIK_PEER] in peers
    assert [TRAEFIK_PEER] not in [r["from"] for r in one(render(), "NetworkPolicy")["spec"]["ingress"]]
    custom = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    values = {f"{route}.enabled": True, "networkPolicy.routingFrom": [custom]}
    peers = [r["from"] for r in one(render(values=values), "NetworkPolicy")["spec"]["ingress"]]
    assert [custom] in peers and [TRAEFIK_PEER] not in peers
    values = {f"{route}.enabled": True, "networkPolicy.routingFrom": []}
    assert all(r["from"] for r in one(render(values=values), "NetworkPolicy")["spec"]["ingress"])


def test_network_policy_disabled(render):
    assert by_kind(render(values={"networkPolicy.enabled": False}), "NetworkPolicy") == []


# --- autoscaling, ingress, routes, scheduling --------------------------------------------------------


def test_hpa_owns_the_replica_count(render):
    objects = render(values={"autoscaling.enabled": True, "autoscaling.targetMemoryUtilizationPercentage": 80})
    assert "replicas" not in one(objects, "Deployment")["spec"]
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
    targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in hpa["spec"]["metrics"]}
    assert targets == {"cpu": 70, "memory": 80}
    assert one(render(), "Deployment")["spec"]["replicas"] == 1
    assert by_kind(render(), "HorizontalPodAutoscaler") == []


def test_hpa_behavior_is_passed_through(render):
    # {} (the default) leaves spec.behavior out: Kubernetes' own defaults apply.
    assert "behavior" not in one(render(values={"autoscaling.enabled": True}), "HorizontalPodAutoscaler")["spec"]
    behavior = {
        "scaleUp": {"stabilizationWindowSeconds": 0, "policies": [{"type": "Pods", "value": 2, "periodSeconds": 15}]},
        "scaleDown": {
            "stabilizationWindowSeconds": 15,
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        },
    }
    hpa = one(render(values={"autoscaling.enabled": True, "autoscaling.behavior": behavior}), "HorizontalPodAutoscaler")
    assert hpa["spec"]["behavior"] == behavior


def test_ingress_and_httproute_point_at_the_service(render):
    objects = render(values={"ingress.enabled": True, "httpRoute.enabled": True})
    rule = one(objects, "Ingress")["spec"]["rules"][0]
    assert rule["http"]["paths"][0]["backend"] == {"service": {"name": "flask-service", "port": {"name": "http"}}}
    route = one(objects, "HTTPRoute")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "flask-service", "port": 5000}]
    assert by_kind(render(), "Ingress") == [] and by_kind(render(), "HTTPRoute") == []


def test_routes_default_to_the_clusters_traefik(render):
    # What hack/addons/traefik runs (hack/addons/traefik/traefik.yaml): the Gateway traefik/traefik and the
    # IngressClass traefik; both routes answer the same host name.
    objects = render(values={"ingress.enabled": True, "httpRoute.enabled": True})
    ingress = one(objects, "Ingress")["spec"]
    route = one(objects, "HTTPRoute")["spec"]
    assert ingress["ingressClassName"] == "traefik"
    assert route["parentRefs"] == [{"name": "traefik", "namespace": "traefik"}]
    assert route["hostnames"] == [rule["host"] for rule in ingress["rules"]] == ["flask-service.local"]


def test_topology_spread_gets_the_pod_selector(render):
    constraint = {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway"}
    spec, _ = app_pod(render(values={"topologySpreadConstraints": [constraint]}))
    assert spec["topologySpreadConstraints"] == [{**constraint, "labelSelector": {"matchLabels": SELECTOR}}]


def test_pods_spread_across_nodes_by_default(render):
    # A preference (ScheduleAnyway), per rollout: a single-node cluster still runs every replica.
    spec, _ = app_pod(render())
    assert spec["topologySpreadConstraints"] == [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "matchLabelKeys": ["pod-template-hash"],
            "labelSelector": {"matchLabels": SELECTOR},
        }
    ]


def test_service_account(render):
    objects = render()
    account = one(objects, "ServiceAccount")
    assert account["automountServiceAccountToken"] is False
    spec, _ = app_pod(objects)
    assert spec["serviceAccountName"] == account["metadata"]["name"]
    spec, _ = app_pod(render(values={"serviceAccount.create": False}))
    assert spec["serviceAccountName"] == "default"
    assert by_kind(render(values={"serviceAccount.create": False}), "ServiceAccount") == []


# --- helm test pod -----------------------------------------------------------------------------------


def test_helm_test_pod_requests_both_pages(render):
    pod = one(render(values={"config.nextHeading": "Custom next"}), "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    container = pod["spec"]["containers"][0]
    assert container["command"][:2] == ["python", "-c"]
    script = container["command"][2]
    assert "urllib.request" in script and '"/"' in script and '"/next"' in script
    env = env_values(container)
    assert env["BASE_URL"] == "http://flask-service:5000"
    assert env["NEXT_HEADING"] == "Custom next"
    assert pod["spec"]["restartPolicy"] == "Never"
    compile(script, "test-pages", "exec")  # the embedded script is valid Python
