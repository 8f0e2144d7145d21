"""Importing the registry from CSV and XLSX files: `files` reads them, `rows` turns each row into the inputs
the services take (through the one validation), `service` runs the dry run and the all-or-nothing import,
`jobs` keeps the uploads of the import page."""

from twincity.enterprises.imports.files import KINDS, FileRejected, RowError, columns_for, template_csv, template_xlsx
from twincity.enterprises.imports.rows import ImportResult
from twincity.enterprises.imports.service import ImportRejected, import_access_check, import_apply, import_plan

__all__ = [
    "KINDS",
    "FileRejected",
    "ImportRejected",
    "ImportResult",
    "RowError",
    "columns_for",
    "import_access_check",
    "import_apply",
    "import_plan",
    "template_csv",
    "template_xlsx",
]
