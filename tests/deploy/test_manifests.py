"""The Kubernetes manifests in deploy/k8s/ are valid Kubernetes objects, are what
``python -m deploy.kubernetes`` makes of the registry, run every process of
``services.registry`` as it must run (replicas, probes on /health at its port, a Service), and
give each process every setting it reads; the NATS chart's values make a cluster of three with
JetStream and the local stack's users. No network: kubernetes-validate ships its schemas."""

from __future__ import annotations

import base64
import importlib
import os
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from contracts.connection import PASSWORD_VARIABLE, USER_VARIABLE, identity
from deploy import kubernetes
from deploy.stack import NATS_USERS, nats_permissions
from services import registry
from services.platform.settings import Settings
from services.registry import PROCESSES, PROJECTOR, SERVICES, WEB, Process
from services.web.settings import WebSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
# The oldest Kubernetes a managed cluster still runs, and the newest whose schemas ship.
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
NOT_OBJECTS = {"kustomization.yaml", "nats-values.yaml"}  # kustomize's and Helm's own


def documents(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


def objects() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name not in NOT_OBJECTS:
            found += [(path.name, doc) for doc in documents(path.name)]
    return found


def applied() -> list[dict[str, Any]]:
    """What ``kubectl apply -k deploy/k8s`` applies: the kustomization's resources."""
    kustomization = documents("kustomization.yaml")[0]
    return [doc for name in kustomization["resources"] for doc in documents(name)]


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in applied() if doc["kind"] == kind}


def container_of(process: Process) -> dict[str, Any]:
    deployment = of_kind("Deployment")[process.name]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def secret_values() -> dict[str, dict[str, str]]:
    """A value for every key of the Secret templates, of the form each setting wants."""
    values: dict[str, dict[str, str]] = {}
    for doc in documents("secret.template.yaml"):
        keys = doc["stringData"]
        values[doc["metadata"]["name"]] = {
            key: base64.b64encode(bytes(range(32))).decode()
            if key == "TALKOOT_AUDIT_KEY"
            else "postgresql://talkoot:pw@db.example:5432/talkoot"
            if key.endswith("DATABASE_URL")
            else f"t{key.lower()}-0123456789abcdefghijklmnopqrstuvwxyz"
            for key in keys
        }
    return values


def environment_of(process: Process) -> dict[str, str]:
    """The variables the pod of ``process`` starts with: its ConfigMaps', then its own, each
    Secret reference resolved from the templates (a missing key leaves the variable unset)."""
    container = container_of(process)
    config_maps = {doc["metadata"]["name"]: doc["data"] for doc in of_kind("ConfigMap").values()}
    secrets = secret_values()
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]])
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        else:
            ref = variable["valueFrom"]["secretKeyRef"]
            if ref["key"] in secrets.get(ref["name"], {}):
                env[variable["name"]] = secrets[ref["name"]][ref["key"]]
    return env


# --- the files -----------------------------------------------------------------------------


def test_the_committed_files_are_what_the_generator_makes():
    made = kubernetes.files()
    committed = {path.name for path in K8S.glob("*.yaml")}
    assert committed == set(made), "run python -m deploy.kubernetes"
    for name, text in made.items():
        assert (K8S / name).read_text() == text, f"{name}: run python -m deploy.kubernetes"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_is_valid_against_the_kubernetes_schemas(version):
    found = objects()
    assert {doc["kind"] for _, doc in found} >= {
        "Namespace",
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    }
    for name, doc in found:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{name}: {doc['kind']} {doc['metadata']['name']}: {error.message}")


def test_the_validator_refuses_what_kubernetes_would():
    deployment = of_kind("Deployment")[registry.REQUESTS.name]
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)
    unknown = yaml.safe_load(yaml.safe_dump(deployment))
    unknown["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(unknown, VERSIONS[-1], strict=True)


def test_apply_k_applies_everything_but_the_secret_templates():
    kustomization = documents("kustomization.yaml")[0]
    assert kustomization["kind"] == "Kustomization"
    listed = set(kustomization["resources"])
    assert all((K8S / name).exists() for name in listed)
    assert "secret.template.yaml" not in listed
    assert not any(doc["kind"] == "Secret" for doc in applied())
    assert {doc["metadata"].get("namespace", "talkoot") for doc in applied()} == {"talkoot"}


def test_no_secret_is_committed():
    for doc in documents("secret.template.yaml"):
        assert all(value.startswith("REPLACE") for value in doc["stringData"].values())
    for _, doc in objects():
        if doc["kind"] == "ConfigMap":
            assert not {"TALKOOT_DATABASE_URL", *kubernetes.SECRETS} & set(doc["data"])


# --- every process of the registry, as it must run -------------------------------------------


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_every_process_runs_its_module_as_nobody_in_particular(process):
    deployments = of_kind("Deployment")
    assert process.name in deployments, f"no Deployment for {process.name}"
    pod = deployments[process.name]["spec"]["template"]["spec"]
    container = container_of(process)
    assert container["command"] == ["python", "-m", process.module]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["resources"]["requests"]["cpu"]
    assert container["resources"]["limits"]["memory"]


@pytest.mark.parametrize("process", [*SERVICES, WEB], ids=lambda p: p.name)
def test_every_http_process_has_replicas_probes_on_health_a_service_and_a_budget(process):
    deployment = of_kind("Deployment")[process.name]
    assert deployment["spec"]["replicas"] >= 2
    container = container_of(process)
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    env = environment_of(process)
    assert int(env.get(f"TALKOOT_{process.name.upper()}_PORT", process.port)) == process.port
    assert env["TALKOOT_HOST"] == "0.0.0.0"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        check = container[probe]["httpGet"]
        assert check["path"] == "/health"
        assert ports.get(check["port"], check["port"]) == process.port
    assert (
        container["livenessProbe"]["periodSeconds"] * container["livenessProbe"]["failureThreshold"]
        >= 60
    ), "a short outage of PostgreSQL or NATS restarts nothing"

    service = of_kind("Service")[process.name]
    assert service["spec"]["type"] == "ClusterIP"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    (port,) = service["spec"]["ports"]
    assert port["port"] == process.port
    assert ports.get(port["targetPort"], port["targetPort"]) == process.port

    budget = of_kind("PodDisruptionBudget")[process.name]
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_the_web_front_finds_every_service_at_its_service():
    env = environment_of(WEB)
    services = of_kind("Service")
    for service in SERVICES:
        url = env[f"TALKOOT_{service.name.upper()}_URL"]
        assert url == f"http://{service.name}:{services[service.name]['spec']['ports'][0]['port']}"


def test_the_busiest_services_scale_on_cpu():
    autoscalers = of_kind("HorizontalPodAutoscaler")
    for name in (registry.REQUESTS.name, registry.MATCHING.name):
        spec = autoscalers[name]["spec"]
        assert spec["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert spec["minReplicas"] >= 2 and spec["maxReplicas"] > spec["minReplicas"]


def test_the_projector_has_a_replica_standing_by_and_its_probe_reads_its_heartbeat():
    deployment = of_kind("Deployment")[PROJECTOR.name]
    # one projects (it holds the lease), the other stands by to take over
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert PROJECTOR.name not in of_kind("Service")
    container = container_of(PROJECTOR)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["exec"]["command"] == ["python", "-m", "projections", "--alive"]
    heartbeat = environment_of(PROJECTOR)["TALKOOT_HEARTBEAT_FILE"]
    mounts = [m["mountPath"] for m in container["volumeMounts"]]
    assert any(heartbeat.startswith(f"{mount}/") for mount in mounts), "heartbeat not writable"


# --- every setting a process reads is set ----------------------------------------------------

# What the code reads and the manifests leave unset on purpose, and why.
LEFT_UNSET = {
    "TALKOOT_JWT_KEYS": "the HS256 secret is set instead; mount a JWKS and set it to use one",
    "TALKOOT_NATS_CREDS": "each process has a user and a password instead",
    "TALKOOT_AUDIT_ORIGIN": "talkoot.<TALKOOT_JURISDICTION> by default",
    "TALKOOT_CATALOGUE": "the catalogue installed with the package",
    "TALKOOT_MAP_TILES": "no tile server unless the city names one",
    "TALKOOT_MAP_ATTRIBUTION": "goes with TALKOOT_MAP_TILES",
    "TALKOOT_OIDC_REDIRECT_URL": "<TALKOOT_WEB_URL>/signin/callback by default",
}
SECRET_ONES = {*kubernetes.SECRETS, "TALKOOT_NATS_PASSWORD"}


def variables_read(*folders: str) -> set[str]:
    """Every TALKOOT_* variable named in the code of ``folders`` (besides the ports and the
    services' URLs, which are made from the registry's names)."""
    found: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(re.findall(r'"(TALKOOT_[A-Z0-9_]+)"', path.read_text()))
    return found


def read_by(process: Process) -> set[str]:
    if process is PROJECTOR:
        return variables_read("projections", "contracts")
    if process is WEB:
        return variables_read("services/web")
    return variables_read("services/platform", "contracts", process.module.replace(".", "/"))


@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
def test_every_setting_that_is_no_secret_is_set(process):
    env = environment_of(process)
    missing = read_by(process) - set(env) - set(LEFT_UNSET) - SECRET_ONES
    assert not missing, f"{process.name} reads {sorted(missing)}, which its pod does not set"


@pytest.mark.parametrize("process", SERVICES, ids=lambda p: p.name)
def test_every_service_starts_with_the_settings_its_pod_has(process, monkeypatch):
    env = environment_of(process)
    for variable in [v for v in os.environ if v.startswith("TALKOOT_")]:
        monkeypatch.delenv(variable)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    spec = importlib.import_module(f"{process.module}.__main__").SPEC
    spec.check_settings(settings)  # its own needs: the pseudonym secret, the master key
    settings.keys()  # what tokens are verified with
    settings.audit_seed()  # what its checkpoints are signed with
    assert settings.namespace == "talkoot"
    assert settings.port(process.name) == process.port
    assert identity(env) == {"user": process.name, "password": env[PASSWORD_VARIABLE]}


def test_a_service_whose_pod_lacks_a_key_would_not_start(monkeypatch):
    env = environment_of(registry.REQUESTS)
    del env["TALKOOT_PERSONAL_DATA_KEY"]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TALKOOT_PERSONAL_DATA_KEY", raising=False)
    spec = importlib.import_module("services.requests.__main__").SPEC
    with pytest.raises(SystemExit):
        spec.check_settings(Settings.from_env())


def test_the_projector_and_the_web_front_have_what_they_require(monkeypatch):
    env = environment_of(PROJECTOR)
    # projections/__main__.py: required, or it exits
    for name in ("TALKOOT_DATABASE_URL", "TALKOOT_NATS_URL", "TALKOOT_PSEUDONYM_SECRET"):
        assert env.get(name), name
    assert env[USER_VARIABLE] == PROJECTOR.name and env[PASSWORD_VARIABLE]
    web = environment_of(WEB)
    assert USER_VARIABLE not in web  # the front keeps no events and has no NATS user
    for name, value in web.items():
        monkeypatch.setenv(name, value)
    settings = WebSettings.from_env()
    assert settings.port == WEB.port and settings.host == "0.0.0.0"
    assert settings.demo_people is None and settings.secure_cookies


# --- the NATS chart's values ----------------------------------------------------------------

# The keys of the nats chart's values.yaml (github.com/nats-io/k8s, helm/charts/nats, 2.14.2)
# that the values set; under `merge` and `env` anything goes (the server's config, variables).
CHART_KEYS = {
    "fullnameOverride",
    "namespaceOverride",
    "config.cluster.enabled",
    "config.cluster.replicas",
    "config.jetstream.enabled",
    "config.jetstream.fileStore.enabled",
    "config.jetstream.fileStore.dir",
    "config.jetstream.fileStore.pvc.enabled",
    "config.jetstream.fileStore.pvc.size",
    "config.jetstream.memoryStore.enabled",
    "config.merge",
    "container.env",
    "container.merge",
    "podTemplate.topologySpreadConstraints",
    "natsBox.enabled",
    "natsBox.contexts.default.merge",
    "natsBox.container.env",
}
FREE_FORM = ("merge", "env", "topologySpreadConstraints")


def keys_of(values: dict[str, Any], prefix: str = "") -> set[str]:
    found = set()
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and key not in FREE_FORM:
            found |= keys_of(value, f"{path}.")
        else:
            found.add(path)
    return found


def nats_values() -> dict[str, Any]:
    (values,) = documents("nats-values.yaml")
    return values


def test_the_nats_values_use_only_the_charts_keys():
    assert keys_of(nats_values()) <= CHART_KEYS


def test_nats_is_a_cluster_of_three_with_jetstream_on_file_storage():
    config = nats_values()["config"]
    assert config["cluster"]["enabled"] is True and config["cluster"]["replicas"] == 3
    jetstream = config["jetstream"]
    assert jetstream["enabled"] is True
    assert jetstream["fileStore"]["enabled"] is True and jetstream["fileStore"]["pvc"]["enabled"]
    assert (
        nats_values()["fullnameOverride"] + ":4222"
        in environment_of(SERVICES[0])["TALKOOT_NATS_URL"]
    )


def test_nats_has_the_local_stacks_users_and_permissions_and_no_anonymous_one():
    values = nats_values()
    authorization = values["config"]["merge"]["authorization"]
    assert "no_auth_user" not in authorization
    users = {u["user"]: u for u in authorization["users"]}
    assert set(users) == set(NATS_USERS)
    env = values["container"]["env"]
    for name, user in users.items():
        assert user["permissions"] == nats_permissions(name)
        # the chart writes `<< $X >>` unquoted: the server reads $X from its environment
        match = re.fullmatch(r"<< \$([A-Z_]+) >>", user["password"])
        assert match, user["password"]
        ref = env[match[1]]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": kubernetes.NATS_SECRET, "key": name}
    # and each process connects with the password of its own user
    for process in PROCESSES:
        if process.name in users:
            variable = next(
                v for v in container_of(process)["env"] if v["name"] == PASSWORD_VARIABLE
            )
            assert variable["valueFrom"]["secretKeyRef"] == {
                "name": kubernetes.NATS_SECRET,
                "key": process.name,
            }
