"""The supplier tree triggers of 0002, again on SQLite. Adding local_name (0008) made
SQLite rebuild suppliers_supplier (it cannot add a column with a database default in
place), and a rebuilt table loses its triggers: cycles and wrong tiers were accepted
again. PostgreSQL altered the table in place and kept its trigger, so nothing is done
there. Dropping first makes this safe on a database that still has them."""

from importlib import import_module

from django.db import migrations

tree_trigger = import_module("suppliers.migrations.0002_supplier_tree_trigger")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in [*tree_trigger.SQLITE_DOWN, *tree_trigger.SQLITE_UP]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("suppliers", "0009_verbose_names_translated")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
