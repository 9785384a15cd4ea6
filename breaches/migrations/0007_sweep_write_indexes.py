"""Fewer indexes for the reminder sweep to write (it inserts a few hundred thousand
reminders and timeline events at full scale):

- the single-column foreign-key indexes on the event's incident and plan and on the
  reminder's action go: event_incident_idx, event_plan_idx and
  reminder_unique_action_point lead with those columns and serve the same lookups;
- the event's actor and penalty indexes become partial (not null): the sweep's events
  have neither, and deleting a user or a penalty only looks up non-null values;
- reminder_undelivered_idx goes: no query reads reminders by it.

Only indexes change; the foreign-key constraints stay (a plain AlterField would drop
and re-validate them)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FOREIGN_KEY_INDEXES = [
    ("breaches_incidentevent", "incident_id", "breaches_incidentevent_incident_id_fa8c6fd5"),
    ("breaches_incidentevent", "plan_id", "breaches_incidentevent_plan_id_f7dad668"),
    ("breaches_incidentevent", "actor_id", "breaches_incidentevent_actor_id_a24a87b1"),
    ("breaches_incidentevent", "penalty_id", "breaches_incidentevent_penalty_id_e098a30d"),
    ("breaches_reminder", "action_id", "breaches_reminder_action_id_36c2b566"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("breaches", "0006_perf_list_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="incidentevent",
            index=models.Index(
                condition=models.Q(("actor__isnull", False)),
                fields=["actor"],
                name="event_actor_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="incidentevent",
            index=models.Index(
                condition=models.Q(("penalty__isnull", False)),
                fields=["penalty"],
                name="event_penalty_idx",
            ),
        ),
        migrations.RemoveIndex(model_name="reminder", name="reminder_undelivered_idx"),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
                )
                for table, column, name in FOREIGN_KEY_INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="incidentevent",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="incidentevent",
                    name="incident",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="breaches.incident",
                    ),
                ),
                migrations.AlterField(
                    model_name="incidentevent",
                    name="penalty",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="breaches.penalty",
                    ),
                ),
                migrations.AlterField(
                    model_name="incidentevent",
                    name="plan",
                    field=models.ForeignKey(
                        blank=True,
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
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reminders",
                        to="breaches.rectificationaction",
                    ),
                ),
            ],
        ),
    ]
