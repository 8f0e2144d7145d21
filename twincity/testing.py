"""The shared cast of PRODUCT.md for every test, built from the demo's persona definitions
(twincity.demo.personas), so the personas are defined once: alice, bob, bella, bruno, gary, owen, clara, olivia,
ruby, felix, charlie."""

from datetime import date

from twincity.accounts.models import Organisation, User
from twincity.demo.personas import ALICE_CODE, BOB_CODE, ORGANISATIONS, PERSONAS
from twincity.enterprises.models import Enterprise

PASSWORD = "twincity-test-pw"
PERSONA_NAMES = tuple(persona.username for persona in PERSONAS)

__all__ = ["ALICE_CODE", "BOB_CODE", "PASSWORD", "PERSONA_NAMES", "Cast"]

# Cast attribute → the persona organisation it is (OrgSpec keys of twincity.demo.personas).
ORGANISATION_ATTRIBUTES = {
    "alice_org": "alice_org",
    "bob_org": "bob_org",
    "bank_a": "crcb",
    "bank_a_branch": "crcb_kxc",
    "bank_b": "cdb",
    "bank_b_branch": "cdb_gx",
    "guarantor": "cq_guarantee",
    "institute": "cqu_atc",
    "office": "cq_services",
    "committee": "cq_committee",
}


class Cast:
    """Organisations and users of the personas, and the two persona companies. Build with Cast.create()
    inside a test transaction."""

    @classmethod
    def create(cls) -> "Cast":
        cast = cls()
        specs = {spec.key: spec for spec in ORGANISATIONS}
        wanted = set(ORGANISATION_ATTRIBUTES.values()) | {p.organisation for p in PERSONAS if p.organisation}
        organisations: dict[str, Organisation] = {}
        for spec in ORGANISATIONS:  # parents come before their branches
            if spec.key in wanted or any(specs[key].parent == spec.key for key in wanted):
                organisations[spec.key] = Organisation.objects.create(
                    name=spec.name, kind=spec.kind, city=spec.city,
                    parent=organisations[spec.parent] if spec.parent else None,
                )
        for attribute, key in ORGANISATION_ATTRIBUTES.items():
            setattr(cast, attribute, organisations[key])
        for persona in PERSONAS:
            user = User.objects.create_user(
                persona.username, password=PASSWORD, role=persona.role,
                organisation=organisations.get(persona.organisation), display_name=persona.display_name,
            )
            setattr(cast, persona.username, user)
        cast.alice_co = Enterprise.objects.create(
            credit_code=ALICE_CODE, name=cast.alice_org.name, city="chongqing", district="高新区",
            registered_on=date(2018, 5, 9), industry_cluster="ic", industry_code="C3973", size_class="small",
            organisation=cast.alice_org, ip_I_self=6, ip_II=14,
        )
        cast.bob_co = Enterprise.objects.create(
            credit_code=BOB_CODE, name=cast.bob_org.name, city="chengdu", district="高新区",
            registered_on=date(2016, 3, 1), industry_cluster="ict", industry_code="I6513", size_class="medium",
            organisation=cast.bob_org, ip_I_self=3, ip_II=40,
        )
        return cast

    @property
    def personas(self) -> dict[str, User]:
        """Every persona by username (charlie has no role and no organisation)."""
        return {name: getattr(self, name) for name in PERSONA_NAMES}
