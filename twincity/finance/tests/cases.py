"""Helpers for the tests of demands and applications: extra officers and a product with lines."""

from twincity.accounts.models import Organisation, User
from twincity.finance import services

LINED = {
    "kind": "credit_loan", "name_zh": "科创额度贷", "name_en": "Lined tech loan",
    "pricing": {"rate": "0.035"},
    "credit_line": {"total": "1000000", "max_amount": "600000"},
}


def officer(username: str, organisation: Organisation) -> User:
    return User.objects.create_user(username, password="x", role=User.Role.BANK_OFFICER, organisation=organisation)


def lined_product(cast, definition=None):
    """A credit loan of bella's branch: total line 100万, one enterprise's line 60万."""
    return services.product_create(actor=cast.olivia, institution=cast.bank_a_branch, product_id="crcb-lined",
                                   definition=definition or LINED)


def branch(cast, key: str) -> Organisation:
    from twincity.demo.personas import ORGANISATIONS

    spec = {s.key: s for s in ORGANISATIONS}[key]
    parent = Organisation.objects.get(name={s.key: s for s in ORGANISATIONS}[spec.parent].name)
    return Organisation.objects.get_or_create(name=spec.name, kind=spec.kind,
                                              defaults={"city": spec.city, "parent": parent})[0]
