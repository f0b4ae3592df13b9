"""JetStream stream and subject names, one stream per producing service.

Which streams there are is the services' business (``services.registry``): the functions here
take a stream's name, and those that deal with every stream are given the list.

Every name carries a namespace (``talkoot`` unless configured otherwise) so that separate
installations, or test runs, can share one NATS server without reading each other's events.
"""

DEFAULT_NAMESPACE = "talkoot"

# How long JetStream remembers a Nats-Msg-Id: a re-publish inside this window is dropped.
DUPLICATE_WINDOW_SECONDS = 15 * 60

MSG_ID_HEADER = "Nats-Msg-Id"
POSITION_HEADER = "Talkoot-Position"
EVENT_HEADER = "Talkoot-Event"


def stream_name(service: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """``TALKOOT_REQUESTS`` for the requests service in the default namespace."""
    return f"{namespace}_{service}".upper().replace("-", "_").replace(".", "_")


def subject_prefix(service: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    return f"{namespace}.{service}"


def subject(service: str, event_type: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """``talkoot.requests.ServiceRequestedV1``: one subject per event type and version."""
    return f"{subject_prefix(service, namespace)}.{event_type}"


def msg_id(service: str, position: int) -> str:
    """The de-duplication id of the event at ``position`` in ``service``'s notification log."""
    return f"{service}:{position}"


# Dead letters: the messages a consumer could not apply, one stream per installation.
DEAD_LETTERS = "deadletters"
DEAD_CONSUMER_HEADER = "Talkoot-Dead-Consumer"
DEAD_UPSTREAM_HEADER = "Talkoot-Dead-Upstream"
DEAD_SUBJECT_HEADER = "Talkoot-Dead-Subject"
DEAD_STREAM_SEQ_HEADER = "Talkoot-Dead-Stream-Seq"
DEAD_REASON_HEADER = "Talkoot-Dead-Reason"
DEAD_ATTEMPTS_HEADER = "Talkoot-Dead-Attempts"


def dead_letter_subject(durable: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """``talkoot.deadletters.projection-board``: where ``durable`` sets its dead letters."""
    return f"{namespace}.{DEAD_LETTERS}.{durable}"


def replay_subject(durable: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """The core NATS subject on which ``durable`` answers requests to replay a dead letter
    (the payload is its sequence number in the dead-letter stream)."""
    return f"{namespace}.replay.{durable}"
