"""The incident timeline is append-only: a database trigger refuses any change to an
event's content (only `actor` may be nulled, when a user account is removed)."""

from django.db import migrations

TABLE = "breaches_incidentevent"
COLUMNS = "incident_id, kind, message, from_status, to_status, created_at, penalty_id, plan_id"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION breaches_incidentevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'incident timeline events are append-only' USING ERRCODE = 'check_violation';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER incidentevent_append_only BEFORE UPDATE OF {COLUMNS} ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION breaches_incidentevent_append_only();
"""
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS incidentevent_append_only ON {TABLE};
DROP FUNCTION IF EXISTS breaches_incidentevent_append_only();
"""
SQLITE_UP = (
    f"CREATE TRIGGER incidentevent_append_only BEFORE UPDATE OF {COLUMNS} ON {TABLE} "
    "BEGIN SELECT RAISE(ABORT, 'incident timeline events are append-only'); END;"
)
SQLITE_DOWN = "DROP TRIGGER IF EXISTS incidentevent_append_only;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("breaches", "0002_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
