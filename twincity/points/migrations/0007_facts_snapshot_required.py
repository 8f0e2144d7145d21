# 3 of 3: every result has its snapshot; the per-result copy of the facts goes. The run and the enterprise of a
# result lose their single-column indexes: the constraint (run, enterprise) and the index (enterprise, run) lead
# with them, and every index less is one b-tree less to write per result.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enterprises', '0005_audit_subject_backfill'),
        ('points', '0006_facts_snapshot_fill'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='scoreresult',
            name='facts',
        ),
        migrations.AlterField(
            model_name='scoreresult',
            name='enterprise',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                    related_name='score_results', to='enterprises.enterprise'),
        ),
        migrations.AlterField(
            model_name='scoreresult',
            name='run',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                    related_name='results', to='points.scoringrun'),
        ),
        migrations.AlterField(
            model_name='scoreresult',
            name='snapshot',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='results',
                                    to='points.factssnapshot'),
        ),
    ]
