"""Talkoot's Kubernetes manifests (``deploy/k8s/``) and the NATS chart's values, made from
``services.registry`` and the local stack's NATS users, so that a new service or a changed
permission cannot be forgotten in production.

``python -m deploy.kubernetes`` writes them; ``--check`` only says whether the committed files
are what it would write (tests/deploy/test_manifests.py checks the same).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from contracts.connection import PASSWORD_VARIABLE, USER_VARIABLE
from deploy.stack import NATS_USERS, OPERATOR, SECRET_VARIABLES, nats_permissions
from services import registry
from services.registry import Process

DIRECTORY = Path(__file__).resolve().parent / "k8s"
NAMESPACE = "talkoot"  # the Kubernetes namespace, and Talkoot's (TALKOOT_NAMESPACE)
IMAGE = "talkoot"  # kustomization.yaml's `images:` names the real one
CONFIG = "talkoot-config"  # the ConfigMap of the settings that are no secret
SECRET = "talkoot"  # the Secret of the database URL and the keys
NATS_SECRET = "talkoot-nats"  # the Secret of every NATS user's password, by user
NATS_RELEASE = "nats"  # the Helm release of the NATS chart, in the same namespace
HEARTBEAT = "/run/talkoot/heartbeat"
REPLICAS = 2
# The services whose load grows with the residents' requests: they scale on CPU.
AUTOSCALED = (registry.REQUESTS.name, registry.MATCHING.name)

# The settings that are no secret, as the services read them (README: Configuration). The
# durations and amounts are the defaults, written out so that they are changed in one place.
SETTINGS: dict[str, str] = {
    "TALKOOT_NATS_URL": f"nats://{NATS_RELEASE}:4222",
    "TALKOOT_NAMESPACE": NAMESPACE,
    # The chart's cluster has three nodes: each stream kept on all of them.
    "TALKOOT_STREAM_REPLICAS": "3",
    # Probes and other pods reach a pod at its own address, not at 127.0.0.1.
    "TALKOOT_HOST": "0.0.0.0",
    "TALKOOT_LOG_LEVEL": "INFO",
    "TALKOOT_JURISDICTION": "lahti.fi",
    "TALKOOT_JWT_ISSUER": "talkoot-local",
    "TALKOOT_JWT_AUDIENCE": "talkoot",
    "TALKOOT_READ_WAIT_SECONDS": "5",
    "TALKOOT_OFFER_EXPIRES_AFTER": "24h",
    "TALKOOT_AUTO_CONFIRM_AFTER": "7d",
    "TALKOOT_FAIRNESS_WINDOW": "30d",
    "TALKOOT_SERIES_HORIZON": "7d",
    "TALKOOT_SWEEP_SECONDS": "5",
    "TALKOOT_IDEMPOTENCY_TTL": "1d",
    "TALKOOT_RATE_LIMIT": "120/minute",
    "TALKOOT_DEAD_LETTER_ATTEMPTS": "3",
    "TALKOOT_STALL_SECONDS": "30",
    "TALKOOT_CHECKPOINT_SECONDS": "300",
    "TALKOOT_TABLES_PERSONNEL_AND_FEES_CENTS": "8300000",
    "TALKOOT_TABLES_COMMON_EXPENSES_CENTS": "1700000",
    # The web front: where people reach it (https: its cookies are Secure), no demo sign-in.
    "TALKOOT_WEB_URL": "https://talkoot.example.fi",
    "TALKOOT_DEMO_SIGNIN": "off",
    "TALKOOT_OIDC_ISSUER": "https://login.example.fi",
    "TALKOOT_OIDC_CLIENT_ID": "talkoot",
    "TALKOOT_OIDC_SCOPES": "openid profile",
    **{f"TALKOOT_{p.name.upper()}_PORT": str(p.port) for p in registry.PROCESSES if p.port},
    **{f"TALKOOT_{s.name.upper()}_URL": f"http://{s.name}:{s.port}" for s in registry.SERVICES},
}

# The Secret's keys, each a variable of the same name; what each is (for the template).
SECRETS: dict[str, str] = {
    "TALKOOT_DATABASE_URL": "postgresql://talkoot:PASSWORD@primary.db.example.fi:5432/talkoot"
    "?sslmode=require",
    # A read replica for the queries (deploy/k8s/README.md); without the key, the primary.
    "TALKOOT_READ_DATABASE_URL": "or leave out: "
    "postgresql://talkoot:PASSWORD@replica.db.example.fi:5432/talkoot?sslmode=require",
    SECRET_VARIABLES["jwt"]: "at least 32 characters (or mount TALKOOT_JWT_KEYS instead)",
    SECRET_VARIABLES["pseudonyms"]: "at least 32 characters",
    SECRET_VARIABLES["web"]: "at least 32 characters",
    SECRET_VARIABLES["audit"]: "the base64 of 32 random bytes: openssl rand -base64 32",
    SECRET_VARIABLES["personal"]: "at least 32 characters; keep it apart from the backups",
    "TALKOOT_OPEN311_API_KEYS": "comma-separated keys of the city systems that post",
    "TALKOOT_OIDC_CLIENT_SECRET": "the web front's secret at the identity provider",
}

# Which of the Secret's keys each process is given: only those it reads.
EVERY_SERVICE = (
    "TALKOOT_DATABASE_URL",
    "TALKOOT_READ_DATABASE_URL",
    SECRET_VARIABLES["jwt"],
    SECRET_VARIABLES["audit"],
)
SECRETS_OF: dict[str, tuple[str, ...]] = {
    registry.REQUESTS.name: (
        *EVERY_SERVICE,
        SECRET_VARIABLES["pseudonyms"],
        SECRET_VARIABLES["personal"],
        "TALKOOT_OPEN311_API_KEYS",
    ),
    registry.PROVIDERS.name: EVERY_SERVICE,
    registry.MATCHING.name: (*EVERY_SERVICE, SECRET_VARIABLES["personal"]),
    registry.PARTNERSHIPS.name: EVERY_SERVICE,
    registry.TABLES.name: (*EVERY_SERVICE, SECRET_VARIABLES["pseudonyms"]),
    registry.PROJECTOR.name: ("TALKOOT_DATABASE_URL", SECRET_VARIABLES["pseudonyms"]),
    registry.WEB.name: (SECRET_VARIABLES["web"], "TALKOOT_OIDC_CLIENT_SECRET"),
}
OPTIONAL_SECRETS = ("TALKOOT_OIDC_CLIENT_SECRET", "TALKOOT_READ_DATABASE_URL")

# Resources: each service stays well under 100 MB resident (matching, which keeps its roster
# in memory, is the largest); a burst of requests takes a core.
RESOURCES: dict[str, dict[str, dict[str, str]]] = {
    "default": {"requests": {"cpu": "100m", "memory": "160Mi"}, "limits": {"memory": "384Mi"}},
    registry.MATCHING.name: {
        "requests": {"cpu": "200m", "memory": "256Mi"},
        "limits": {"memory": "512Mi"},
    },
    registry.REQUESTS.name: {
        "requests": {"cpu": "200m", "memory": "192Mi"},
        "limits": {"memory": "384Mi"},
    },
}


def labels(process: Process) -> dict[str, str]:
    return {"app.kubernetes.io/name": process.name, "app.kubernetes.io/part-of": "talkoot"}


def selector(process: Process) -> dict[str, str]:
    return {"app.kubernetes.io/name": process.name}


def metadata(name: str, process: Process | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": NAMESPACE}
    if process is not None:
        meta["labels"] = labels(process)
    return meta


def password_user(process: Process) -> str | None:
    """The NATS user ``process`` connects as (none for the web front)."""
    return process.name if process.name in NATS_USERS else None


def environment(process: Process) -> list[dict[str, Any]]:
    """The variables of ``process`` besides the ConfigMap's: its NATS identity and its keys."""
    env: list[dict[str, Any]] = []
    if user := password_user(process):
        env.append({"name": USER_VARIABLE, "value": user})
        env.append(
            {
                "name": PASSWORD_VARIABLE,
                "valueFrom": {"secretKeyRef": {"name": NATS_SECRET, "key": user}},
            }
        )
    for key in SECRETS_OF[process.name]:
        ref: dict[str, Any] = {"name": SECRET, "key": key}
        if key in OPTIONAL_SECRETS:
            ref["optional"] = True
        env.append({"name": key, "valueFrom": {"secretKeyRef": ref}})
    if process.port is None:
        env.append({"name": "TALKOOT_HEARTBEAT_FILE", "value": HEARTBEAT})
    return env


def probes(process: Process) -> dict[str, Any]:
    """An HTTP process answers on /health (503 when PostgreSQL or NATS is away or a consumer
    is stalled); the projector touches its heartbeat while no read model is stalled."""
    if process.port is not None:
        check: dict[str, Any] = {"httpGet": {"path": "/health", "port": "http"}}
        period = 10
    else:  # a Python process of its own each time: less often
        check = {"exec": {"command": ["python", "-m", process.module, "--alive"]}}
        period = 30
    return {
        # up to a minute to create its schemas and streams the first time
        "startupProbe": {**check, "periodSeconds": 2, "timeoutSeconds": 5, "failureThreshold": 30},
        "readinessProbe": {
            **check,
            "periodSeconds": period,
            "timeoutSeconds": 5,
            "failureThreshold": 3,
        },
        # restarted only after two minutes without health: a short outage of PostgreSQL or
        # NATS takes the pods out of the Service, but restarts none
        "livenessProbe": {
            **check,
            "periodSeconds": 2 * period,
            "timeoutSeconds": 5,
            "failureThreshold": 120 // (2 * period),
        },
    }


def container(process: Process) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": process.name,
        "image": IMAGE,
        "command": ["python", "-m", process.module],
        "envFrom": [{"configMapRef": {"name": CONFIG}}],
        "env": environment(process),
    }
    if process.port is not None:
        spec["ports"] = [{"name": "http", "containerPort": process.port, "protocol": "TCP"}]
    spec.update(probes(process))
    spec["resources"] = RESOURCES.get(process.name, RESOURCES["default"])
    spec["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    # the root file system is read-only: scratch files go to /tmp, the heartbeat to /run
    spec["volumeMounts"] = [
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "run", "mountPath": "/run/talkoot"},
    ]
    return spec


def replicas(process: Process) -> int:
    """Two of every process: each serves HTTP (the projector has none), and the one holding
    the process's lease relays, consumes and sweeps (contracts/lease.py)."""
    return REPLICAS


def deployment(process: Process) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(process.name, process),
        "spec": {
            "replicas": replicas(process),
            "selector": {"matchLabels": selector(process)},
            # an old and a new version side by side are replicas too: one of them leads
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {"labels": labels(process)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    # SIGTERM: the relay and consumers finish the message in hand
                    "terminationGracePeriodSeconds": 30,
                    "containers": [container(process)],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                        {"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
                    ],
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": selector(process)},
                        }
                    ],
                },
            },
        },
    }


def service(process: Process) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(process.name, process),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(process),
            "ports": [{"name": "http", "port": process.port, "targetPort": "http"}],
        },
    }


def disruption_budget(process: Process) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(process.name, process),
        "spec": {"minAvailable": 1, "selector": {"matchLabels": selector(process)}},
    }


def autoscaler(process: Process) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(process.name, process),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": process.name},
            "minReplicas": REPLICAS,
            "maxReplicas": 6,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
    }


def documents(process: Process) -> list[dict[str, Any]]:
    """Everything of one process: its Deployment, and for the HTTP ones a Service; a
    disruption budget where there are two or more; an autoscaler for the busiest."""
    found = [deployment(process)]
    if process.port is not None:
        found.append(service(process))
    if replicas(process) > 1:
        found.append(disruption_budget(process))
    if process.name in AUTOSCALED:
        found.append(autoscaler(process))
    return found


def namespace() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": NAMESPACE, "labels": {"app.kubernetes.io/part-of": "talkoot"}},
    }


def config_map() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(CONFIG), "data": SETTINGS}


def secret_templates() -> list[dict[str, Any]]:
    """The two Secrets, with what each key holds in place of its value: never applied as they
    are (deploy/k8s/README.md says how to make them)."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": metadata(SECRET),
            "type": "Opaque",
            "stringData": {key: f"REPLACE: {what}" for key, what in SECRETS.items()},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": metadata(NATS_SECRET),
            "type": "Opaque",
            "stringData": {
                user: "REPLACE: a letter, then random letters and digits" for user in NATS_USERS
            },
        },
    ]


def password_variable(user: str) -> str:
    """The variable the NATS server reads ``user``'s password from."""
    return f"NATS_PASSWORD_{user.upper()}"


def nats_values() -> dict[str, Any]:
    """Values of the NATS chart (github.com/nats-io/k8s, chart ``nats``): a cluster of three
    with JetStream on file storage, and the local stack's users with their permissions; the
    passwords come from the Secret, through the server's environment."""
    users = [
        {
            "user": user,
            "password": f"<< ${password_variable(user)} >>",
            "permissions": nats_permissions(user),
        }
        for user in NATS_USERS
    ]
    return {
        "fullnameOverride": NATS_RELEASE,
        "namespaceOverride": NAMESPACE,
        "config": {
            "cluster": {"enabled": True, "replicas": 3},
            "jetstream": {
                "enabled": True,
                "fileStore": {
                    "enabled": True,
                    "dir": "/data",
                    "pvc": {"enabled": True, "size": "20Gi"},
                },
                "memoryStore": {"enabled": False},
            },
            # no `no_auth_user`: a client without a user is refused
            "merge": {"authorization": {"users": users}},
        },
        "container": {
            "env": {
                password_variable(user): {
                    "valueFrom": {"secretKeyRef": {"name": NATS_SECRET, "key": user}}
                }
                for user in NATS_USERS
            },
            "merge": {
                "resources": {
                    "requests": {"cpu": "500m", "memory": "1Gi"},
                    "limits": {"memory": "2Gi"},
                }
            },
        },
        "podTemplate": {
            "topologySpreadConstraints": {
                "kubernetes.io/hostname": {"maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule"}
            }
        },
        # nats-box, the chart's client pod, connects as the operator
        "natsBox": {
            "enabled": True,
            "contexts": {"default": {"merge": {"user": OPERATOR}}},
            "container": {
                "env": {
                    "NATS_PASSWORD": {
                        "valueFrom": {"secretKeyRef": {"name": NATS_SECRET, "key": OPERATOR}}
                    }
                }
            },
        },
    }


HEADER = (
    "# Made by `python -m deploy.kubernetes` from services/registry.py and deploy/stack.py:\n"
    "# change those, or the generator, and run it again; do not edit this file by hand.\n"
)


class Dumper(yaml.SafeDumper):
    """Plain YAML: a value used twice is written out twice, not as an anchor and alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(docs: list[dict[str, Any]]) -> str:
    return HEADER + "---\n".join(
        yaml.dump(doc, Dumper=Dumper, sort_keys=False, default_flow_style=False, width=100)
        for doc in docs
    )


def resources() -> dict[str, list[dict[str, Any]]]:
    """What ``kubectl apply -k`` applies, by file name."""
    files = {"namespace.yaml": [namespace()], "config.yaml": [config_map()]}
    for process in registry.PROCESSES:
        files[f"{process.name}.yaml"] = documents(process)
    return files


def kustomization() -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": NAMESPACE,
        "resources": list(resources()),
        "images": [{"name": IMAGE, "newName": "registry.example.fi/talkoot", "newTag": "0.1.0"}],
    }


def files() -> dict[str, str]:
    """Every file of deploy/k8s/ this module makes, by name, as text."""
    made = {name: dump(docs) for name, docs in resources().items()}
    made["secret.template.yaml"] = dump(secret_templates())
    made["kustomization.yaml"] = dump([kustomization()])
    made["nats-values.yaml"] = dump([nats_values()])
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.kubernetes", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only say what differs")
    parser.add_argument("--directory", type=Path, default=DIRECTORY)
    args = parser.parse_args(argv)
    stale = []
    for name, text in files().items():
        path = args.directory / name
        if path.exists() and path.read_text() == text:
            continue
        stale.append(name)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if args.check and stale:
        print(f"not as generated: {', '.join(stale)} (run python -m deploy.kubernetes)")
        return 1
    for name in stale:
        print(f"wrote {args.directory / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
