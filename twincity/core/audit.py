"""The audit trail: one function to record a change, one to compute what changed.

Services call `audit_record` inside their transaction, so an audit entry exists exactly when the change does.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring_ascii as _json_string  # what json.dumps writes a str as
from typing import Any

from django.db import models

from twincity.core.bulk import bulk_insert, bulk_insert_encoded
from twincity.core.caching import REGISTRY, version_bump
from twincity.core.models import AuditEntry


def plain(value: Any) -> Any:
    """A value as the audit trail stores it (JSON-safe)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The JSON-safe values of an instance's concrete fields (foreign keys by id)."""
    names = fields or [f.attname for f in instance._meta.concrete_fields]
    return {name: plain(getattr(instance, name)) for name in names}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    keys = set(before) | set(after)
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in sorted(keys)
        if before.get(key) != after.get(key) and key not in {"updated_at"}
    }


def object_type_of(instance_or_model: models.Model | type[models.Model]) -> str:
    return instance_or_model._meta.label_lower


def subject_of(instance: models.Model) -> str:
    """The history key of an object: "app_label.model:pk"."""
    return f"{object_type_of(instance)}:{instance.pk}"


def audit_entry_build(
    *,
    actor: Any,
    action: str,
    instance: models.Model,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    context: str = "",
    subject: models.Model | None = None,
) -> AuditEntry | None:
    """The entry for one change (unsaved), or None for an update that changed nothing. `subject` is the object
    whose history the change belongs to (default: the instance itself)."""
    changes = diff(before or {}, after or {})
    if action == AuditEntry.Action.UPDATE and not changes:
        return None
    return AuditEntry(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=object_type_of(instance),
        object_id=str(instance.pk),
        object_repr=str(instance)[:255],
        changes=changes,
        context=context[:255],
        subject=subject_of(subject if subject is not None else instance),
    )


def audit_record(
    *,
    actor: Any,
    action: str,
    instance: models.Model,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    context: str = "",
    subject: models.Model | None = None,
) -> AuditEntry | None:
    """Record one change. An update that changed nothing records nothing."""
    entry = audit_entry_build(
        actor=actor, action=action, instance=instance, before=before, after=after, context=context,
        subject=subject,
    )
    if entry is not None:
        entry.save()
        version_bump(REGISTRY)  # the cached figures are computed again once the change commits
    return entry


def audit_entries_write(entries: Iterable[AuditEntry | None]) -> None:
    """Save built entries (audit_entry_build) at once; None entries (updates that changed nothing) are skipped."""
    kept = [entry for entry in entries if entry is not None]
    if kept:
        AuditEntry.objects.bulk_create(kept)
        version_bump(REGISTRY)


# --- many entries at once (imports) ------------------------------------------------------------------------

AUDIT_COLUMNS = ("at", "actor_id", "action", "object_type", "object_id", "object_repr", "changes", "context",
                 "subject")


def creation_changes(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """What `diff({}, snapshot)` gives for a new object, from its plain values: every field that has one."""
    return {key: {"before": None, "after": values[key]} for key in sorted(values)
            if values[key] is not None and key != "updated_at"}


def creation_changes_text(values: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    """`json.dumps(creation_changes(values))` for plain values that are all text, whole numbers or None, without
    building the changes: `keys` are the values' keys, sorted. None when a value is of another kind (then ask
    json.dumps). An import writes one per created row; the tests compare the two."""
    parts = []
    for key in keys:
        value = values[key]
        kind = type(value)
        if kind is str:
            text = _json_string(value)
        elif kind is int:
            text = int.__repr__(value)
        elif value is None:
            continue
        else:
            return None
        if key != "updated_at":
            head = _CHANGE_HEADS.get(key)
            if head is None:
                head = _CHANGE_HEADS[key] = f'{_json_string(key)}: {{"before": null, "after": '
            parts.append(head + text + "}")
    return "{" + ", ".join(parts) + "}"


_CHANGE_HEADS: dict[str, str] = {}  # a key's `"key": {"before": null, "after": ` (creation_changes_text)


def audit_rows_write(rows: Sequence[Sequence[Any]]) -> None:
    """Write many audit entries at once; each row holds the values of AUDIT_COLUMNS (see audit_row)."""
    if rows:
        bulk_insert(AuditEntry, rows, AUDIT_COLUMNS)
        version_bump(REGISTRY)


ENCODED_AUDIT_COLUMNS = AUDIT_COLUMNS[1:]  # "at" is the same for every entry of a write


def audit_rows_write_encoded(rows: Sequence[Sequence[Any]], *, at: datetime) -> None:
    """`audit_rows_write` for rows whose `changes` are already their JSON text (`json.dumps` of the changes, as
    the ORM stores them) and that share one time `at`; each row holds the values of ENCODED_AUDIT_COLUMNS."""
    if rows:
        bulk_insert_encoded(AuditEntry, rows, ENCODED_AUDIT_COLUMNS, constants={"at": at})
        version_bump(REGISTRY)


def audit_row(*, at, actor, action: str, object_type: str, object_id: Any, object_repr: str,
              changes: dict[str, Any], context: str, subject: str) -> tuple:
    return (at, actor.pk if getattr(actor, "pk", None) else None, action, object_type, str(object_id),
            object_repr[:255], changes, context[:255], subject)
