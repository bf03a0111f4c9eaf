"""Client pods that make real connections from inside the cluster, and what each connection got.

A client pod runs the main release's own image (it has Python) and idles until probed; a probe GETs `/`
on each address with a short timeout and reports a status, or why there was none: "refused", "timeout",
or another error. Used for the NetworkPolicy (who may connect) and the pod network (from every node to
every pod).
"""

from __future__ import annotations

import json

from kubernetes import client

from .kube import SERVICE_PORT, kubectl_in, wait_until

START_TIMEOUT = 120  # seconds for client pods to run
# GET / on each address (argv: port, addresses...) with a short timeout;
# prints {address: status, or "refused", "timeout", another error}.
PROBE = """
import http.client, json, socket, sys
out = {}
for host in sys.argv[2:]:
    conn = http.client.HTTPConnection(host, int(sys.argv[1]), timeout=2)
    try:
        conn.request("GET", "/")
        out[host] = str(conn.getresponse().status)
    except ConnectionRefusedError:
        out[host] = "refused"
    except (socket.timeout, TimeoutError):
        out[host] = "timeout"
    except OSError as error:
        out[host] = repr(error)
    finally:
        conn.close()
print(json.dumps(out))
"""


IDLE = ["/opt/venv/bin/python", "-c", "import time; time.sleep(1800)"]
# A plain HTTP server on the service's port, answering 200 for / (a listing of an empty directory).
SERVER = ["/opt/venv/bin/python", "-m", "http.server", "5000", "--directory", "/tmp"]


def client_pod(
    name: str, namespace: str, image: str, node: str | None = None, command: list[str] | None = None
) -> dict:
    """A pod that idles until probed (or runs `command`), on `node` if given; fit for the restricted Pod
    Security profile."""
    spec = {
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 0,
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "probe",
                "image": image,
                "command": command or IDLE,
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
                "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
            }
        ],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    if node:
        spec["nodeSelector"] = {"kubernetes.io/hostname": node}
    labels = {"app.kubernetes.io/name": "e2e-probe"}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": spec,
    }


def wait_running(core: client.CoreV1Api, pods: list[tuple[str, str]]) -> None:
    """Wait until every (namespace, name) pod runs."""

    def not_running():
        phases = {f"{ns}/{name}": core.read_namespaced_pod(name, ns).status.phase for ns, name in pods}
        return None if set(phases.values()) == {"Running"} else f"phases {phases}"

    wait_until("the client pods to run", not_running, timeout=START_TIMEOUT)


def probe(namespace: str, pod: str, addresses: list[str], port: int = SERVICE_PORT) -> dict[str, str]:
    out = kubectl_in(
        namespace, "exec", pod, "--", "/opt/venv/bin/python", "-c", PROBE, str(port), *addresses, timeout=60
    )
    return json.loads(out.stdout)
