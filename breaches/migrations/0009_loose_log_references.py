"""The reminder log and the incident timeline check their references with statement
triggers instead of foreign-key constraints.

A foreign-key constraint checks each inserted row on its own and locks the row it
points at (SELECT ... FOR KEY SHARE). The reminder sweep writes a few hundred thousand
reminders and timeline events at full scale: that was 780,000 row locks on plans,
actions and incidents, 1.4 GB of full-page images in the WAL and more than half of the
sweep's time (docs/benchmarks.md). The triggers below keep the same rules, checked once
per statement over all its new rows (one anti-join, no row locks), and add two that a
foreign key could not say:

- a reminder's plan and action exist, and the action belongs to the plan; its target
  never changes afterwards;
- an event's incident exists, and its plan, if any, is a plan of that incident;
- a plan, action or incident that a reminder or event refers to cannot be deleted
  (statement trigger on the parent; the application never deletes incidents or plans,
  and Django's on_delete still cascades or protects first).

What is given up: a parent deleted at the very moment a child row naming it is written,
in two transactions that do not see each other, is no longer caught (the row lock was
what caught it). Nothing in the application deletes incidents, plans or the actions
of approved plans, the only ones reminders are written for.

SQLite (the development default) gets the insert and update checks as row triggers;
the delete checks are PostgreSQL's only, since Django empties SQLite test databases
with DELETE in no particular order.
"""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

PLAN = "breaches_rectificationplan"
ACTION = "breaches_rectificationaction"
INCIDENT = "breaches_incident"
REMINDER = "breaches_reminder"
EVENT = "breaches_incidentevent"

POSTGRES_UP = f"""
CREATE FUNCTION breaches_reminder_references() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM new_rows n
        WHERE NOT EXISTS (SELECT 1 FROM {PLAN} p WHERE p.id = n.plan_id)
           OR (n.action_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM {ACTION} a WHERE a.id = n.action_id AND a.plan_id = n.plan_id))
    ) THEN
        RAISE EXCEPTION 'reminder refers to a missing plan, or to an action of another plan'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER reminder_references AFTER INSERT ON {REMINDER}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION breaches_reminder_references();

CREATE FUNCTION breaches_reminder_target_fixed() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a reminder''s plan and action cannot change'
        USING ERRCODE = 'check_violation';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER reminder_target_fixed BEFORE UPDATE OF plan_id, action_id ON {REMINDER}
    FOR EACH ROW
    WHEN (OLD.plan_id IS DISTINCT FROM NEW.plan_id OR OLD.action_id IS DISTINCT FROM NEW.action_id)
    EXECUTE FUNCTION breaches_reminder_target_fixed();

CREATE FUNCTION breaches_event_references() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM new_rows n
        WHERE NOT EXISTS (SELECT 1 FROM {INCIDENT} i WHERE i.id = n.incident_id)
           OR (n.plan_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM {PLAN} p WHERE p.id = n.plan_id AND p.incident_id = n.incident_id))
    ) THEN
        RAISE EXCEPTION 'event refers to a missing incident, or to a plan of another incident'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER event_references AFTER INSERT ON {EVENT}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION breaches_event_references();

CREATE FUNCTION breaches_referenced_by_logs() RETURNS trigger AS $$
BEGIN
    IF (TG_TABLE_NAME = '{INCIDENT}' AND EXISTS (
            SELECT 1 FROM old_rows o JOIN {EVENT} e ON e.incident_id = o.id))
       OR (TG_TABLE_NAME = '{PLAN}' AND (
            EXISTS (SELECT 1 FROM old_rows o JOIN {EVENT} e ON e.plan_id = o.id)
            OR EXISTS (SELECT 1 FROM old_rows o JOIN {REMINDER} r ON r.plan_id = o.id)))
       OR (TG_TABLE_NAME = '{ACTION}' AND EXISTS (
            SELECT 1 FROM old_rows o JOIN {REMINDER} r ON r.action_id = o.id)) THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = TG_TABLE_NAME || ' rows are still referred to by reminders or events';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER incident_referenced AFTER DELETE ON {INCIDENT}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION breaches_referenced_by_logs();
CREATE TRIGGER plan_referenced AFTER DELETE ON {PLAN}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION breaches_referenced_by_logs();
CREATE TRIGGER action_referenced AFTER DELETE ON {ACTION}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION breaches_referenced_by_logs();
"""  # noqa: S608 (table names are ours)
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS action_referenced ON {ACTION};
DROP TRIGGER IF EXISTS plan_referenced ON {PLAN};
DROP TRIGGER IF EXISTS incident_referenced ON {INCIDENT};
DROP FUNCTION IF EXISTS breaches_referenced_by_logs();
DROP TRIGGER IF EXISTS event_references ON {EVENT};
DROP FUNCTION IF EXISTS breaches_event_references();
DROP TRIGGER IF EXISTS reminder_target_fixed ON {REMINDER};
DROP FUNCTION IF EXISTS breaches_reminder_target_fixed();
DROP TRIGGER IF EXISTS reminder_references ON {REMINDER};
DROP FUNCTION IF EXISTS breaches_reminder_references();
"""
SQLITE_UP = [
    f"""CREATE TRIGGER reminder_references AFTER INSERT ON {REMINDER}
    WHEN NOT EXISTS (SELECT 1 FROM {PLAN} WHERE id = NEW.plan_id)
      OR (NEW.action_id IS NOT NULL AND NOT EXISTS (
          SELECT 1 FROM {ACTION} WHERE id = NEW.action_id AND plan_id = NEW.plan_id))
    BEGIN
        SELECT RAISE(ABORT, 'reminder refers to a missing plan, or to an action of another plan');
    END;""",  # noqa: S608 (table names are ours)
    f"""CREATE TRIGGER reminder_target_fixed BEFORE UPDATE OF plan_id, action_id ON {REMINDER}
    WHEN OLD.plan_id IS NOT NEW.plan_id OR OLD.action_id IS NOT NEW.action_id
    BEGIN SELECT RAISE(ABORT, 'a reminder''s plan and action cannot change'); END;""",
    f"""CREATE TRIGGER event_references AFTER INSERT ON {EVENT}
    WHEN NOT EXISTS (SELECT 1 FROM {INCIDENT} WHERE id = NEW.incident_id)
      OR (NEW.plan_id IS NOT NULL AND NOT EXISTS (
          SELECT 1 FROM {PLAN} WHERE id = NEW.plan_id AND incident_id = NEW.incident_id))
    BEGIN
        SELECT RAISE(ABORT, 'event refers to a missing incident, or to a plan of another incident');
    END;""",  # noqa: S608 (table names are ours)
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS event_references;",
    "DROP TRIGGER IF EXISTS reminder_target_fixed;",
    "DROP TRIGGER IF EXISTS reminder_references;",
]


def _sqlite_append_only(schema_editor) -> None:
    """SQLite alters a column by rebuilding its table, which drops the table's triggers:
    the timeline's append-only trigger (0003) is put back after each rebuild."""
    if schema_editor.connection.vendor == "sqlite":
        append_only = import_module("breaches.migrations.0003_incident_event_append_only")
        schema_editor.execute(append_only.SQLITE_DOWN)
        schema_editor.execute(append_only.SQLITE_UP)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif schema_editor.connection.vendor == "sqlite":
        _sqlite_append_only(schema_editor)
        for sql in SQLITE_UP:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_DOWN:
            schema_editor.execute(sql)


def restore_append_only_after_rebuild(apps, schema_editor):
    """Run last when this migration is reversed (the field changes rebuild the table)."""
    _sqlite_append_only(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("breaches", "0008_report_snapshot"),
    ]

    operations = [
        migrations.RunPython(
            migrations.RunPython.noop, restore_append_only_after_rebuild, elidable=False
        ),
        migrations.AlterField(
            model_name="incidentevent",
            name="incident",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="events",
                to="breaches.incident",
            ),
        ),
        migrations.AlterField(
            model_name="incidentevent",
            name="plan",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="events",
                to="breaches.rectificationplan",
            ),
        ),
        migrations.AlterField(
            model_name="reminder",
            name="action",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="reminders",
                to="breaches.rectificationaction",
            ),
        ),
        migrations.AlterField(
            model_name="reminder",
            name="plan",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="reminders",
                to="breaches.rectificationplan",
            ),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
