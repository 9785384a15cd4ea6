"""A reminder's or a timeline event's penalty is checked by the statement triggers of 0009,
as their plan, action and incident are, instead of a foreign-key constraint.

0017 gave reminders a penalty (money is chased too) with a plain foreign key, and the
timeline's penalty column had one since the start. A foreign key checks each new row on
its own and locks the penalty it names (SELECT ... FOR KEY SHARE): a full-scale sweep
writes 151,000 penalty reminders and as many timeline events, and those checks, run at
commit, were a quarter of its time (docs/benchmarks.md). The triggers check all the new
rows of a statement at once, with no row lock, and say one thing more: an event's
penalty is a penalty of the event's incident. A penalty that a reminder or an event
refers to cannot be deleted (statement trigger, as for plans, actions and incidents;
Django's on_delete still cascades to reminders or protects first).

PostgreSQL only. SQLite keeps its foreign keys: changing them would rebuild both tables
and drop their triggers, for no gain at the sizes SQLite serves.
"""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

PLAN = "breaches_rectificationplan"
ACTION = "breaches_rectificationaction"
INCIDENT = "breaches_incident"
PENALTY = "breaches_penalty"
REMINDER = "breaches_reminder"
EVENT = "breaches_incidentevent"

DROP_PENALTY_FOREIGN_KEYS = f"""
DO $$
DECLARE
    found record;
BEGIN
    FOR found IN
        SELECT c.conrelid::regclass::text AS tab, c.conname AS name
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
        WHERE c.contype = 'f' AND a.attname = 'penalty_id'
          AND c.conrelid IN ('{REMINDER}'::regclass, '{EVENT}'::regclass)
    LOOP
        EXECUTE 'ALTER TABLE ' || quote_ident(found.tab)
            || ' DROP CONSTRAINT ' || quote_ident(found.name);
    END LOOP;
END
$$;
"""

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION breaches_reminder_references() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM new_rows n
        WHERE CASE
            WHEN n.plan_id IS NULL
            THEN n.penalty_id IS NULL
                OR NOT EXISTS (SELECT 1 FROM {PENALTY} x WHERE x.id = n.penalty_id)
            WHEN n.action_id IS NULL
            THEN NOT EXISTS (SELECT 1 FROM {PLAN} p WHERE p.id = n.plan_id)
            ELSE NOT EXISTS (
                SELECT 1 FROM {ACTION} a WHERE a.id = n.action_id AND a.plan_id = n.plan_id)
        END
    ) THEN
        RAISE EXCEPTION 'reminder refers to a missing plan or penalty, or to an action of another plan'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION breaches_event_references() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM new_rows n
        WHERE CASE WHEN n.plan_id IS NULL
            THEN NOT EXISTS (SELECT 1 FROM {INCIDENT} i WHERE i.id = n.incident_id)
            ELSE NOT EXISTS (
                SELECT 1 FROM {PLAN} p WHERE p.id = n.plan_id AND p.incident_id = n.incident_id)
        END
        OR (n.penalty_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM {PENALTY} x WHERE x.id = n.penalty_id AND x.incident_id = n.incident_id))
    ) THEN
        RAISE EXCEPTION 'event refers to a missing incident, or to a plan or penalty of another incident'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION breaches_referenced_by_logs() RETURNS trigger AS $$
BEGIN
    IF (TG_TABLE_NAME = '{INCIDENT}' AND EXISTS (
            SELECT 1 FROM old_rows o JOIN {EVENT} e ON e.incident_id = o.id))
       OR (TG_TABLE_NAME = '{PLAN}' AND (
            EXISTS (SELECT 1 FROM old_rows o JOIN {EVENT} e ON e.plan_id = o.id)
            OR EXISTS (SELECT 1 FROM old_rows o JOIN {REMINDER} r ON r.plan_id = o.id)))
       OR (TG_TABLE_NAME = '{ACTION}' AND EXISTS (
            SELECT 1 FROM old_rows o JOIN {REMINDER} r ON r.action_id = o.id))
       OR (TG_TABLE_NAME = '{PENALTY}' AND (
            EXISTS (SELECT 1 FROM old_rows o JOIN {EVENT} e ON e.penalty_id = o.id)
            OR EXISTS (SELECT 1 FROM old_rows o JOIN {REMINDER} r ON r.penalty_id = o.id))) THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = TG_TABLE_NAME || ' rows are still referred to by reminders or events';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER penalty_referenced AFTER DELETE ON {PENALTY}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION breaches_referenced_by_logs();
"""  # noqa: S608 (table names are ours)

POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS penalty_referenced ON {PENALTY};
ALTER TABLE {REMINDER} ADD CONSTRAINT breaches_reminder_penalty_id_fk_breaches_penalty_id
    FOREIGN KEY (penalty_id) REFERENCES {PENALTY} (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE {EVENT} ADD CONSTRAINT breaches_incidentevent_penalty_id_fk_breaches_penalty_id
    FOREIGN KEY (penalty_id) REFERENCES {PENALTY} (id) DEFERRABLE INITIALLY DEFERRED;
"""  # noqa: S608 (table names are ours)


def _functions_before() -> str:
    """The three functions as 0017, 0011 and 0009 left them (their triggers stay)."""
    reminder = import_module("breaches.migrations.0017_penalty_reminders")
    event = import_module("breaches.migrations.0011_reference_checks_one_probe").POSTGRES_UP
    logs = import_module("breaches.migrations.0009_loose_log_references").POSTGRES_UP
    start = logs.index("CREATE FUNCTION breaches_referenced_by_logs")
    referenced = logs[start : logs.index("CREATE TRIGGER incident_referenced")]
    return (
        reminder.POSTGRES_UP[: reminder.POSTGRES_UP.index("DROP TRIGGER")]
        + event[event.index("CREATE OR REPLACE FUNCTION breaches_event_references") :]
        + referenced.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_PENALTY_FOREIGN_KEYS)
        schema_editor.execute(POSTGRES_UP)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
        schema_editor.execute(_functions_before())


class Migration(migrations.Migration):
    dependencies = [
        ("breaches", "0020_report_snapshot_per_scope"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
            state_operations=[
                migrations.AlterField(
                    model_name="reminder",
                    name="penalty",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reminders",
                        to="breaches.penalty",
                        verbose_name="penalty",
                    ),
                ),
                migrations.AlterField(
                    model_name="incidentevent",
                    name="penalty",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="breaches.penalty",
                        verbose_name="penalty",
                    ),
                ),
            ],
        ),
    ]
