"""A reminder's delivery can end `unknown` (a worker died while handing the mail over),
and a message records when its hand-over began.

SQLite changes a check constraint by rebuilding the table, which drops the table's
triggers: the reminder table's reference triggers (0009) are put back afterwards, and
after the reverse rebuild too."""

from importlib import import_module

from django.db import migrations, models


def _reminder_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    references = import_module("breaches.migrations.0009_loose_log_references")
    for sql in ("DROP TRIGGER IF EXISTS reminder_target_fixed;", "DROP TRIGGER IF EXISTS reminder_references;"):
        schema_editor.execute(sql)
    for sql in references.SQLITE_UP:
        if "TRIGGER reminder_" in sql:
            schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('breaches', '0014_penalty_four_eyes'),
    ]

    operations = [
        # Reversing runs this last, after the reverse rebuild.
        migrations.RunPython(migrations.RunPython.noop, _reminder_triggers),
        migrations.RemoveConstraint(
            model_name='reminder',
            name='reminder_state_valid',
        ),
        migrations.RemoveConstraint(
            model_name='remindermessage',
            name='reminder_message_state_valid',
        ),
        migrations.AddField(
            model_name='remindermessage',
            name='send_started_at',
            field=models.DateTimeField(blank=True, help_text='Set, and committed, before the mail is handed to the mail server; a claim that lapsed with this set means the outcome is unknown.', null=True),
        ),
        migrations.AlterField(
            model_name='reminder',
            name='state',
            field=models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed'), ('skipped', 'Skipped (no longer due)'), ('unknown', 'Outcome unknown (not resent)')], default='pending', max_length=8),
        ),
        migrations.AlterField(
            model_name='remindermessage',
            name='state',
            field=models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed'), ('skipped', 'Skipped (no longer due)'), ('unknown', 'Outcome unknown (not resent)')], default='pending', max_length=8),
        ),
        migrations.AddConstraint(
            model_name='reminder',
            constraint=models.CheckConstraint(condition=models.Q(('state__in', ['pending', 'sent', 'failed', 'skipped', 'unknown'])), name='reminder_state_valid'),
        ),
        migrations.AddConstraint(
            model_name='remindermessage',
            constraint=models.CheckConstraint(condition=models.Q(('state__in', ['pending', 'sent', 'failed', 'skipped', 'unknown'])), name='reminder_message_state_valid'),
        ),
        migrations.RunPython(_reminder_triggers, migrations.RunPython.noop),
]
