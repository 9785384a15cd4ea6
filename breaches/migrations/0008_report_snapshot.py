"""The staff report figures kept in one row, written by a beat task, so that the summary
report and the dashboard no longer count whole tables on requests."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('breaches', '0007_sweep_write_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReportSnapshot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=50, unique=True)),
                ('payload', models.JSONField(help_text='breaches.reports.StaffFigures, as JSON.')),
                ('computed_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['name'],
            },
        ),
    ]
