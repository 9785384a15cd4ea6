"""Database triggers that keep the supplier tree a tree: a supplier's tier is its
parent's tier + 1 and the parent chain never loops. PostgreSQL walks the chain in
PL/pgSQL; SQLite (no CTEs inside triggers) unrolls the walk to MAX_TIER levels, which
is exact because the tier constraint caps chains at that depth."""

from django.db import migrations

MAX_TIER = 10
TABLE = "suppliers_supplier"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION suppliers_supplier_tree_check() RETURNS trigger AS $$
DECLARE
    node bigint := NEW.parent_id;
    hops integer := 0;
    parent_tier integer;
BEGIN
    IF NEW.parent_id IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT tier INTO parent_tier FROM {TABLE} WHERE id = NEW.parent_id;
    IF NEW.tier IS DISTINCT FROM parent_tier + 1 THEN
        RAISE EXCEPTION 'supplier tier must be its parent''s tier + 1'
            USING ERRCODE = 'check_violation';
    END IF;
    WHILE node IS NOT NULL LOOP
        IF node = NEW.id THEN
            RAISE EXCEPTION 'supplier parent chain would loop' USING ERRCODE = 'check_violation';
        END IF;
        hops := hops + 1;
        IF hops > {MAX_TIER} THEN
            RAISE EXCEPTION 'supplier chain too deep' USING ERRCODE = 'check_violation';
        END IF;
        SELECT parent_id INTO node FROM {TABLE} WHERE id = node;
    END LOOP;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER supplier_tree_check BEFORE INSERT OR UPDATE OF parent_id, tier ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION suppliers_supplier_tree_check();
"""
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS supplier_tree_check ON {TABLE};
DROP FUNCTION IF EXISTS suppliers_supplier_tree_check();
"""


def _ancestor(level: int) -> str:
    expr = "NEW.parent_id"
    for _ in range(level - 1):
        expr = f"(SELECT parent_id FROM {TABLE} WHERE id = {expr})"
    return expr


def _sqlite_body() -> str:
    ancestors = ", ".join(_ancestor(level) for level in range(1, MAX_TIER + 1))
    return f"""
    SELECT RAISE(ABORT, 'supplier tier must be its parent''s tier + 1')
        WHERE NEW.tier IS NOT (SELECT tier + 1 FROM {TABLE} WHERE id = NEW.parent_id);
    SELECT RAISE(ABORT, 'supplier parent chain would loop') WHERE NEW.id IN ({ancestors});
    SELECT RAISE(ABORT, 'supplier chain too deep')
        WHERE {_ancestor(MAX_TIER + 1)} IS NOT NULL;
    """


SQLITE_UP = [
    f"CREATE TRIGGER supplier_tree_check_insert BEFORE INSERT ON {TABLE} "
    f"WHEN NEW.parent_id IS NOT NULL BEGIN {_sqlite_body()} END;",
    f"CREATE TRIGGER supplier_tree_check_update BEFORE UPDATE OF parent_id, tier ON {TABLE} "
    f"WHEN NEW.parent_id IS NOT NULL BEGIN {_sqlite_body()} END;",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS supplier_tree_check_insert;",
    "DROP TRIGGER IF EXISTS supplier_tree_check_update;",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("suppliers", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
