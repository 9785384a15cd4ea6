"""Money is chased too (DESIGN section 5): a reminder's target may be a penalty's payment
(target kind `penalty`). Such a reminder has a penalty and no plan: the plan becomes
nullable, a penalty reminder is unique per (penalty, due date, point) like the others, and
the check constraint names what each kind carries.

The reference triggers of 0009 (as 0011 left them on PostgreSQL) learn that a reminder
with no plan is a penalty's, whose reference a plain foreign key checks; the target-fixed
trigger guards the penalty too. SQLite rebuilds the table for the changes, which drops
its triggers: they are put back (the new ones going forwards, 0009's after the reverse
rebuild)."""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

PLAN = "breaches_rectificationplan"
ACTION = "breaches_rectificationaction"
REMINDER = "breaches_reminder"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION breaches_reminder_references() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM new_rows n
        WHERE CASE
            WHEN n.plan_id IS NULL THEN n.penalty_id IS NULL
            WHEN n.action_id IS NULL
            THEN NOT EXISTS (SELECT 1 FROM {PLAN} p WHERE p.id = n.plan_id)
            ELSE NOT EXISTS (
                SELECT 1 FROM {ACTION} a WHERE a.id = n.action_id AND a.plan_id = n.plan_id)
        END
    ) THEN
        RAISE EXCEPTION 'reminder refers to a missing plan, or to an action of another plan'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS reminder_target_fixed ON {REMINDER};
CREATE TRIGGER reminder_target_fixed BEFORE UPDATE OF plan_id, action_id, penalty_id
    ON {REMINDER}
    FOR EACH ROW
    WHEN (OLD.plan_id IS DISTINCT FROM NEW.plan_id OR OLD.action_id IS DISTINCT FROM NEW.action_id
          OR OLD.penalty_id IS DISTINCT FROM NEW.penalty_id)
    EXECUTE FUNCTION breaches_reminder_target_fixed();
"""  # noqa: S608 (table names are ours)

POSTGRES_DOWN_TRIGGER = f"""
DROP TRIGGER IF EXISTS reminder_target_fixed ON {REMINDER};
CREATE TRIGGER reminder_target_fixed BEFORE UPDATE OF plan_id, action_id ON {REMINDER}
    FOR EACH ROW
    WHEN (OLD.plan_id IS DISTINCT FROM NEW.plan_id OR OLD.action_id IS DISTINCT FROM NEW.action_id)
    EXECUTE FUNCTION breaches_reminder_target_fixed();
"""

SQLITE_UP = [
    f"""CREATE TRIGGER reminder_references AFTER INSERT ON {REMINDER}
    WHEN (NEW.plan_id IS NULL AND NEW.penalty_id IS NULL)
      OR (NEW.plan_id IS NOT NULL AND (
          NOT EXISTS (SELECT 1 FROM {PLAN} WHERE id = NEW.plan_id)
          OR (NEW.action_id IS NOT NULL AND NOT EXISTS (
              SELECT 1 FROM {ACTION} WHERE id = NEW.action_id AND plan_id = NEW.plan_id))))
    BEGIN
        SELECT RAISE(ABORT, 'reminder refers to a missing plan, or to an action of another plan');
    END;""",  # noqa: S608 (table names are ours)
    f"""CREATE TRIGGER reminder_target_fixed BEFORE UPDATE OF plan_id, action_id, penalty_id
    ON {REMINDER}
    WHEN OLD.plan_id IS NOT NEW.plan_id OR OLD.action_id IS NOT NEW.action_id
      OR OLD.penalty_id IS NOT NEW.penalty_id
    BEGIN SELECT RAISE(ABORT, 'a reminder''s plan and action cannot change'); END;""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS reminder_target_fixed;",
    "DROP TRIGGER IF EXISTS reminder_references;",
]


def _reminder_function_of_0011() -> str:
    sql = import_module("breaches.migrations.0011_reference_checks_one_probe").POSTGRES_UP
    start = sql.index("CREATE OR REPLACE FUNCTION breaches_reminder_references")
    return sql[start : sql.index("CREATE OR REPLACE FUNCTION breaches_event_references")]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif vendor == "sqlite":
        for sql in [*SQLITE_DROP, *SQLITE_UP]:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_reminder_function_of_0011() + POSTGRES_DOWN_TRIGGER)


def restore_0009_after_rebuild(apps, schema_editor):
    """Run last when this migration is reversed (the field changes rebuild the table)."""
    if schema_editor.connection.vendor != "sqlite":
        return
    references = import_module("breaches.migrations.0009_loose_log_references")
    for sql in SQLITE_DROP:
        schema_editor.execute(sql)
    for sql in references.SQLITE_UP:
        if "TRIGGER reminder_" in sql:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("breaches", "0016_penalty_acknowledged_and_overdue"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, restore_0009_after_rebuild, elidable=False),
        migrations.RemoveConstraint(
            model_name="reminder",
            name="reminder_target_consistent",
        ),
        migrations.AddField(
            model_name="reminder",
            name="penalty",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="reminders",
                to="breaches.penalty",
            ),
        ),
        migrations.AlterField(
            model_name="reminder",
            name="plan",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="reminders",
                to="breaches.rectificationplan",
            ),
        ),
        migrations.AlterField(
            model_name="reminder",
            name="target_type",
            field=models.CharField(
                choices=[
                    ("plan", "Rectification plan"),
                    ("action", "Rectification action"),
                    ("penalty", "Penalty payment"),
                ],
                max_length=8,
            ),
        ),
        migrations.AddConstraint(
            model_name="reminder",
            constraint=models.UniqueConstraint(
                condition=models.Q(("penalty__isnull", False)),
                fields=("penalty", "due_on", "schedule_point"),
                name="reminder_unique_penalty_point",
            ),
        ),
        migrations.AddConstraint(
            model_name="reminder",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("target_type", "plan"),
                        ("action__isnull", True),
                        ("penalty__isnull", True),
                        ("plan__isnull", False),
                    ),
                    models.Q(
                        ("target_type", "action"),
                        ("action__isnull", False),
                        ("penalty__isnull", True),
                        ("plan__isnull", False),
                    ),
                    models.Q(
                        ("target_type", "penalty"),
                        ("action__isnull", True),
                        ("penalty__isnull", False),
                        ("plan__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="reminder_target_consistent",
            ),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
