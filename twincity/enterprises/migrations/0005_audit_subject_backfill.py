"""Fill the history key (AuditEntry.subject) of the registry's existing audit entries: an enterprise's own
entries, its qualifications' (their context named the enterprise) and its declarations' (those still stored)."""

from django.db import migrations


def backfill(apps, schema_editor):
    AuditEntry = apps.get_model("core", "AuditEntry")
    AnnualDeclaration = apps.get_model("enterprises", "AnnualDeclaration")
    entries = AuditEntry.objects.filter(subject="")
    for entry in entries.filter(object_type="enterprises.enterprise").iterator():
        entry.subject = f"enterprises.enterprise:{entry.object_id}"
        entry.save(update_fields=["subject"])
    for entry in entries.filter(object_type="enterprises.qualification", context__startswith="enterprise:").iterator():
        entry.subject = f"enterprises.enterprise:{entry.context.removeprefix('enterprise:')}"
        entry.save(update_fields=["subject"])
    owners = dict(AnnualDeclaration.objects.values_list("pk", "enterprise_id"))
    for entry in entries.filter(object_type="enterprises.annualdeclaration").iterator():
        owner = owners.get(int(entry.object_id)) if entry.object_id.isdigit() else None
        if owner is not None:
            entry.subject = f"enterprises.enterprise:{owner}"
            entry.save(update_fields=["subject"])


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0002_auditentry_subject"),
        ("enterprises", "0004_enterprise_contact"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
