"""Run `manage.py collectstatic` only when the static sources changed since the last collection.

Collecting is slow (every file hashed, then compressed with gzip and Brotli at their highest levels: about a
minute on a busy 2-core machine), and `scripts/serve --production` runs it at every start. The fingerprint of
the sources (path, size, modification time of every file the finders list, plus the storage backend) is kept in
STATIC_ROOT; an unchanged fingerprint with a manifest present skips the collection.

    .venv/bin/python scripts/collectstatic_if_changed.py [--force]
"""

import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders
    from django.core.management import call_command

    digest = hashlib.sha256(settings.STORAGES["staticfiles"]["BACKEND"].encode())
    entries = []
    for finder in get_finders():
        for path, storage in finder.list([]):
            stat = os.stat(storage.path(path))
            entries.append(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode() + b"\n")
    fingerprint = digest.hexdigest()

    root = Path(settings.STATIC_ROOT)
    stamp = root / ".sources-fingerprint"
    manifest = root / "staticfiles.json"
    unchanged = stamp.is_file() and stamp.read_text().strip() == fingerprint
    if unchanged and (manifest.is_file() or not settings.STATIC_MANIFEST) and "--force" not in sys.argv:
        print(f"collectstatic: {len(entries)} static files unchanged since the last collection, skipped")
        return 0
    call_command("collectstatic", interactive=False, verbosity=1)
    stamp.write_text(fingerprint + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
