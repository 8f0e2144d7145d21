# The facts of a result are kept once per enterprise and evaluation date (a FactsSnapshot shared by the results
# computed from the same facts) instead of once per result: 1 of 3, the table and a nullable link.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enterprises', '0005_audit_subject_backfill'),
        ('points', '0004_kinds_renewals_inputs'),
    ]

    operations = [
        migrations.CreateModel(
            name='FactsSnapshot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('evaluation_date', models.DateField(verbose_name='evaluation date')),
                ('digest', models.CharField(max_length=40)),
                ('facts', models.JSONField(default=dict)),
                ('enterprise', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                                 to='enterprises.enterprise')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('enterprise', 'evaluation_date', 'digest'),
                                                        name='facts_snapshot_unique')],
            },
        ),
        migrations.AddField(
            model_name='scoreresult',
            name='snapshot',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='results',
                                    to='points.factssnapshot'),
        ),
    ]
