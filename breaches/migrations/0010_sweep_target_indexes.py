"""Indexes for the reminder sweep's actions: open actions plan by plan, and the approved
plans, both read from their indexes and merged. A same-day rerun at full scale spent
0.6 s of its 1 s check joining 150,000 approved plans (a scan of 1,000,000) to their
actions one plan at a time; merged from these two indexes, 0.12 s."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('breaches', '0009_loose_log_references'),
        ('suppliers', '0003_nda_penalty_amount_max'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='rectificationaction',
            index=models.Index(condition=models.Q(('status', 'open')), fields=['plan', 'due_on', 'id'], name='action_open_plan_idx'),
        ),
        migrations.AddIndex(
            model_name='rectificationplan',
            index=models.Index(condition=models.Q(('status', 'approved')), fields=['id'], name='plan_approved_idx'),
        ),
    ]
