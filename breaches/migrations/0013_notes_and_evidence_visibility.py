"""Notes, timeline events and evidence get a `visibility`: `internal` (the buyer's staff
only) or `shared` (also the supplier users who may see the incident), DESIGN section 7.

Existing rows, all of which supplier users could read until now:

- timeline events: notes written by staff (or by an account since removed) become
  internal, notes written by a supplier user stay shared; fingerprint reports become
  internal; every other event (creation, transitions, liability, penalties, payments,
  plans, actions, reminders, evidence) stays shared, as the database default gives it;
- evidence: files uploaded by a supplier user stay shared; files uploaded by staff (or
  by an account since removed) become internal.

The timeline stays append-only: `visibility` joins the columns the trigger of 0003
guards. SQLite rebuilds a table to add a column, which drops its triggers: the
append-only trigger (0003) and the reference check (0009) are put back afterwards, and
after the reverse rebuild too.
"""

from importlib import import_module

from django.conf import settings
from django.db import migrations, models

EVENT = "breaches_incidentevent"


def _append_only():
    return import_module("breaches.migrations.0003_incident_event_append_only")


def _references():
    return import_module("breaches.migrations.0009_loose_log_references")


def _columns(with_visibility: bool) -> str:
    columns = _append_only().COLUMNS
    return f"{columns}, visibility" if with_visibility else columns


def _postgres_trigger(with_visibility: bool) -> str:
    return (
        f"DROP TRIGGER IF EXISTS incidentevent_append_only ON {EVENT};"
        f"CREATE TRIGGER incidentevent_append_only BEFORE UPDATE OF "
        f"{_columns(with_visibility)} ON {EVENT} "
        "FOR EACH ROW EXECUTE FUNCTION breaches_incidentevent_append_only();"
    )


def _sqlite_triggers(schema_editor, with_visibility: bool) -> None:
    """The event table's triggers, as a rebuild leaves it: none."""
    schema_editor.execute(_append_only().SQLITE_DOWN)
    schema_editor.execute(
        f"CREATE TRIGGER incidentevent_append_only BEFORE UPDATE OF "
        f"{_columns(with_visibility)} ON {EVENT} "
        "BEGIN SELECT RAISE(ABORT, 'incident timeline events are append-only'); END;"
    )
    schema_editor.execute("DROP TRIGGER IF EXISTS event_references;")
    (event_references,) = [sql for sql in _references().SQLITE_UP if "event_references" in sql]
    schema_editor.execute(event_references)


def guard_visibility(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_postgres_trigger(with_visibility=True))
    elif vendor == "sqlite":
        _sqlite_triggers(schema_editor, with_visibility=True)


def unguard_visibility(apps, schema_editor):
    # SQLite: the field removals that follow rebuild the table; restore_after_rebuild,
    # run last, puts 0003's trigger back.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_postgres_trigger(with_visibility=False))


def restore_after_rebuild(apps, schema_editor):
    """Run last when this migration is reversed (the field removals rebuild the table)."""
    if schema_editor.connection.vendor == "sqlite":
        _sqlite_triggers(schema_editor, with_visibility=False)


def set_existing_visibility(apps, schema_editor):
    IncidentEvent = apps.get_model("breaches", "IncidentEvent")
    Evidence = apps.get_model("breaches", "Evidence")
    # Staff notes, and notes whose author is unknown, become internal.
    IncidentEvent.objects.filter(kind="note").exclude(actor__role="supplier").update(
        visibility="internal"
    )
    IncidentEvent.objects.filter(kind="fingerprint").update(visibility="internal")
    # Evidence was added as internal: a supplier user's upload stays shared.
    Evidence.objects.filter(uploaded_by__role="supplier").update(visibility="shared")


class Migration(migrations.Migration):
    dependencies = [
        ("breaches", "0012_business_date_bounds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, restore_after_rebuild, elidable=False),
        migrations.AddField(
            model_name="evidence",
            name="visibility",
            field=models.CharField(
                choices=[("internal", "Internal"), ("shared", "Shared")],
                default="internal",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="incidentevent",
            name="visibility",
            field=models.CharField(
                choices=[("internal", "Internal"), ("shared", "Shared")],
                db_default="shared",
                default="shared",
                max_length=8,
            ),
        ),
        migrations.AddConstraint(
            model_name="evidence",
            constraint=models.CheckConstraint(
                condition=models.Q(("visibility__in", ["internal", "shared"])),
                name="evidence_visibility_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="incidentevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("visibility__in", ["internal", "shared"])),
                name="incident_event_visibility_valid",
            ),
        ),
        migrations.RunPython(set_existing_visibility, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(guard_visibility, unguard_visibility, elidable=False),
    ]
