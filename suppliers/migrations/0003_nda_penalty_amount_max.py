"""NDA penalty amounts are capped at 15 significant digits so that they stay exact on
SQLite (see suppliers.models.MAX_MONEY_AMOUNT)."""

from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('suppliers', '0002_supplier_tree_trigger'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='nda',
            constraint=models.CheckConstraint(condition=models.Q(('penalty_amount__lte', Decimal('9999999999999.99'))), name='nda_penalty_amount_max', violation_error_message='The penalty amount is too large.'),
        ),
    ]
