"""The stack's residents' keys, as the services keep them: for tests that read what was
sealed (a published event's personal fields) the way a service opens it."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from contracts.events import PERSONAL
from deploy.stack import Stack
from services.platform.personal import Keyring, MasterKey, open_event
from services.platform.store import PERSONAL_KEYS


def keyring(stack: Stack) -> Keyring:
    @contextmanager
    def transaction():
        with (
            psycopg.connect(stack.database_url, row_factory=dict_row) as conn,
            conn.transaction(),
        ):
            yield conn.cursor()

    return Keyring(
        MasterKey(stack.secrets["personal"]), f"{stack.namespace}_{PERSONAL_KEYS}", transaction
    )


def opened(stack: Stack, event: Any) -> dict[str, Any]:
    """The personal fields of a published event, opened as a service opens them."""
    return open_event(keyring(stack), event, PERSONAL[type(event)])
