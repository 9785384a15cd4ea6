"""Money amounts are capped at 15 significant digits so that they stay exact on SQLite
(see suppliers.models.MAX_MONEY_AMOUNT). Numbered 0005 by agreement: 0004 is the
reminders migration; the lead adds the merge."""

from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('breaches', '0004_reminders_message_record'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.CheckConstraint(condition=models.Q(('amount__lte', Decimal('9999999999999.99'))), name='payment_amount_max', violation_error_message='The payment amount is too large.'),
        ),
        migrations.AddConstraint(
            model_name='penalty',
            constraint=models.CheckConstraint(condition=models.Q(('amount__lte', Decimal('9999999999999.99'))), name='penalty_amount_max', violation_error_message='The penalty amount is too large.'),
        ),
    ]
