"""The Kubernetes manifests: valid for pinned Kubernetes versions (offline schemas), hardened pods, the
migrate step before the server, bounded CronJobs, and a server that is spread, protected and shut down
gracefully. No cluster runs here; these check what a cluster would be given."""

from __future__ import annotations

import math
from typing import Any

import kubernetes_validate
import pytest

from assistant.config import AssistantSettings
from assistant.server import READY_DB_TIMEOUT
from tests.deploy.conftest import (
    containers,
    image_user,
    of_kind,
    pod_spec,
    pod_template,
    project_version,
    workloads,
)

# The oldest minor version the big managed offerings still run, and the newest the schemas ship.
KUBERNETES_VERSIONS = ("1.32.0", "1.37.0")
DELIVERY_STOP_DRAIN = 5  # s Delivery.stop drains after the grace period (assistant/delivery/dispatcher.py)


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item.get("value", "") for item in container.get("env", [])}


def server(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = of_kind(manifests, "Deployment")
    return deployment


def cpu_cores(quantity: str) -> float:
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_against_the_pinned_kubernetes_schemas(
    manifests: list[dict[str, Any]], version: str
) -> None:
    assert manifests
    for doc in manifests:
        kubernetes_validate.validate(doc, version, strict=True)  # raises on any unknown or wrong field


def test_every_pod_runs_as_the_images_non_root_user_with_nothing_to_escalate(
    manifests: list[dict[str, Any]],
) -> None:
    uid = image_user()
    for doc in workloads(manifests):
        spec = pod_spec(doc)
        name = doc["metadata"]["name"]
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == uid, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        tmp_volumes = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for container in containers(spec):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, (name, container["name"])
            assert context["readOnlyRootFilesystem"] is True, (name, container["name"])
            assert context["capabilities"] == {"drop": ["ALL"]}, (name, container["name"])
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts.get("/tmp") in tmp_volumes, (name, container["name"], "a writable /tmp")
            env = env_of(container)
            assert env["HOME"].startswith("/tmp") and env["XDG_CACHE_HOME"].startswith("/tmp"), name


def test_images_are_pinned_to_the_project_version(manifests: list[dict[str, Any]]) -> None:
    for doc in workloads(manifests):
        for container in containers(pod_spec(doc)):
            image = container["image"]
            assert image.rsplit(":", 1)[-1] == project_version(), image
            assert container["imagePullPolicy"] == "IfNotPresent", image


def test_the_server_migrates_before_it_starts_and_stays_reappliable(manifests: list[dict[str, Any]]) -> None:
    spec = pod_spec(server(manifests))
    (migrate,) = spec["initContainers"]
    (serve,) = spec["containers"]
    assert migrate["args"] == ["db", "upgrade"] and serve["args"] == ["serve"]
    assert migrate["image"] == serve["image"]
    # A Job's pod template is immutable: `kubectl apply` with a new image tag would be refused.
    assert of_kind(manifests, "Job") == []


def test_cron_jobs_are_bounded_in_time_retries_and_threads(manifests: list[dict[str, Any]]) -> None:
    cron_jobs = of_kind(manifests, "CronJob")
    assert len(cron_jobs) >= 4
    for doc in cron_jobs:
        name = doc["metadata"]["name"]
        spec = doc["spec"]
        job = spec["jobTemplate"]["spec"]
        assert spec["concurrencyPolicy"] == "Forbid", name
        assert spec["timeZone"], name
        assert 0 < spec["startingDeadlineSeconds"] <= 3600, name
        assert 0 < job["activeDeadlineSeconds"] <= 4 * 3600, name
        assert job["backoffLimit"] <= 1, name  # a 401 is not worth six more tries
        assert job["ttlSecondsAfterFinished"] > 0, name
        assert job["template"]["spec"]["restartPolicy"] == "Never", name  # retries count against backoffLimit
        (container,) = job["template"]["spec"]["containers"]
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(
            resources["limits"]
        )
        threads = int(env_of(container)["SKILLMATCH_EMBEDDER_THREADS"])
        assert 1 <= threads <= math.ceil(cpu_cores(resources["limits"]["cpu"])), name


def test_the_jira_board_job_runs_every_fifteen_minutes_one_at_a_time(manifests: list[dict[str, Any]]) -> None:
    (board,) = [
        d
        for d in of_kind(manifests, "CronJob")
        if pod_spec(d)["containers"][0]["args"][:2] == ["jobs", "jira-board"]
    ]
    assert board["spec"]["schedule"] == "*/15 * * * *"
    assert board["spec"]["concurrencyPolicy"] == "Forbid"
    assert board["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 0  # the next run is 15 minutes away


def test_the_server_is_spread_over_nodes_and_protected_from_voluntary_disruption(
    manifests: list[dict[str, Any]],
) -> None:
    deployment = server(manifests)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    affinity = pod_spec(deployment)["affinity"]["podAntiAffinity"]
    (term,) = affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"].items() <= labels.items()
    (budget,) = of_kind(manifests, "PodDisruptionBudget")
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert budget["spec"]["minAvailable"] == 1


def test_network_policies_admit_only_the_server_port_and_the_needed_egress(
    manifests: list[dict[str, Any]],
) -> None:
    policies = of_kind(manifests, "NetworkPolicy")
    server_labels = server(manifests)["spec"]["template"]["metadata"]["labels"]
    ingress = [p for p in policies if "Ingress" in p["spec"]["policyTypes"]]
    assert ingress and all(
        p["spec"]["podSelector"]["matchLabels"].items() <= server_labels.items() for p in ingress
    )
    ports = {port["port"] for p in ingress for rule in p["spec"]["ingress"] for port in rule["ports"]}
    assert ports == {3000}
    egress = [p for p in policies if "Egress" in p["spec"]["policyTypes"]]
    allowed = {port["port"] for p in egress for rule in p["spec"]["egress"] for port in rule["ports"]}
    assert allowed == {53, 5432, 443}
    for doc in workloads(manifests):  # every pod is covered by the egress policy
        labels = pod_template(doc)["metadata"]["labels"]
        assert any(p["spec"]["podSelector"]["matchLabels"].items() <= labels.items() for p in egress), doc


def test_probes_and_shutdown_fit_the_apps_own_timings(manifests: list[dict[str, Any]]) -> None:
    spec = pod_spec(server(manifests))
    (serve,) = spec["containers"]
    readiness = serve["readinessProbe"]
    assert readiness["httpGet"]["path"] == "/readyz"
    assert readiness["timeoutSeconds"] > READY_DB_TIMEOUT
    assert serve["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert serve["startupProbe"]["httpGet"]["path"] == "/healthz"
    command = serve["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop = int(command[1])
    grace = float(
        env_of(serve).get("SKILLMATCH_SHUTDOWN_GRACE_SECONDS")
        or AssistantSettings.model_fields["shutdown_grace_seconds"].default
    )
    # Endpoints are removed during preStop; then turns finish within the grace and Delivery drains.
    assert spec["terminationGracePeriodSeconds"] > pre_stop + grace + DELIVERY_STOP_DRAIN


def test_the_ingress_example_routes_slack_and_teams_to_the_service(manifests: list[dict[str, Any]]) -> None:
    (service,) = of_kind(manifests, "Service")
    (ingress,) = of_kind(manifests, "Ingress")
    assert ingress["spec"]["tls"]
    paths = {
        path["path"]: path["backend"]["service"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert set(paths) == {"/slack/events", "/api/messages"}
    for backend in paths.values():
        assert backend == {
            "name": service["metadata"]["name"],
            "port": {"number": service["spec"]["ports"][0]["port"]},
        }
