"""Helpers to prove a rule is held by the database itself: the write goes straight to the
table (`objects.create` / `.update()`, no full_clean), so only a constraint or a trigger
can refuse it."""

from contextlib import contextmanager

import pytest
from django.db import DataError, IntegrityError, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Hypothesis examples share the test's database; each one runs in its own savepoint.
db_settings = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def refused(write) -> None:
    """`write()` must be refused by the database (and leave nothing behind). A value too
    long for its column is a DataError on PostgreSQL (SQLite ignores lengths, so there
    the check constraint refuses it)."""
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        write()


@contextmanager
def rolled_back():
    """Run a write that must succeed, then undo it so examples stay independent."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def db_text(max_size: int):
    """Random strings a text column can hold: no NUL (PostgreSQL refuses it) and no lone
    surrogates (not encodable in UTF-8, so no client can send them)."""
    return st.text(
        alphabet=st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
        max_size=max_size,
    )
