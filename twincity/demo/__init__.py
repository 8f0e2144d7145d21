"""Demo data: the persona cast (`personas`), a deterministic synthetic registry (`generator`, pure) and the
loader that writes them (`services`, `manage.py seed_demo`)."""
