"""Every access decision is one predicate: each is checked here against the whole persona cast (alice, bob,
bella, bruno, gary, owen, clara, chen, hank, olivia, charlie and an anonymous visitor), and each list form of a rule
(`enterprises_visible`, …) is checked to agree with its single-object predicate for every persona.

A predicate added to an access module without a row here fails `test_every_predicate_is_tested`.
"""

import inspect

import pytest
from django.contrib.auth.models import AnonymousUser

from twincity.accounts import access as accounts_access
from twincity.accounts.models import INSTITUTION_KINDS
from twincity.audit import access as audit_access
from twincity.enterprises import access as enterprises_access
from twincity.enterprises.fields import COMPANY_EDITABLE_FIELDS, PROFILE_FIELD_NAMES
from twincity.enterprises.models import ImportJob
from twincity.finance import access as finance_access
from twincity.govservices import access as govservices_access
from twincity.notifications import access as notifications_access
from twincity.points import access as points_access
from twincity.testing import PERSONA_NAMES
from twincity.webhooks import access as webhooks_access

EVERYONE = (*PERSONA_NAMES, "anonymous")
SIGNED_IN = PERSONA_NAMES
REGISTRY_READERS = ("bella", "bruno", "gary", "clara", "chen", "hank")


@pytest.fixture
def people(cast) -> dict:
    return {**cast.personas, "anonymous": AnonymousUser()}


@pytest.fixture
def objects(cast) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from twincity.demo.finance import DEMO_PRODUCTS
    from twincity.finance.services import case_claim, case_create, consent_grant, product_create

    job = ImportJob.objects.create(created_by=cast.alice, kind="declarations", filename="d.csv", stored_path="x")
    # bella's bank publishes a product; alice's company consents to bella's bank (head office: every branch).
    loan = product_create(actor=cast.olivia, institution=cast.bank_a_branch, product_id="loan",
                          definition=DEMO_PRODUCTS[0][2])
    consent_grant(actor=cast.alice, enterprise=cast.alice_co, institution=cast.bank_a, purpose="financing",
                  valid_until=timezone.now() + timedelta(days=1))
    from twincity.finance.models import EquityRound

    # alice publishes a demand (offered to Chongqing's bank branches: bella's), bob publishes one (Chengdu:
    # bruno's), alice keeps a draft, and bella claims a second demand of alice's.
    def demand(actor, company, submit=True):
        return case_create(actor=actor, enterprise=company, kind="demand", amount="1000000", term_months=12,
                           purpose="x", submit=submit)

    claimed = case_claim(actor=cast.bella, case=demand(cast.alice, cast.alice_co))
    # a round on alice's company by an investor not on the platform (a fund's officers record only their own)
    round_ = EquityRound(enterprise=cast.alice_co, investor=None, investor_name="某创投")
    # Public services: both cities' halls (clara's, chen's), an item of hank's department, alice's online case.
    from twincity.govservices.models import ServiceHall
    from twincity.govservices.services import case_file, item_create

    ServiceHall.objects.create(organisation=cast.clara.organisation, city="chongqing")
    ServiceHall.objects.create(organisation=cast.chen.organisation, city="chengdu")
    item = item_create(actor=cast.olivia, code="gov-1", city="chongqing", name="社会保障卡申领",
                       item_type="public_service", department=cast.hank.organisation,
                       implementing_body=cast.hank.organisation, legal_limit_days=10, promised_limit_days=3,
                       definition={})
    gov_case = case_file(actor=cast.alice, item=item, applicant_name="Alice", channel="online")
    return {"alice_co": cast.alice_co, "bob_co": cast.bob_co, "bank_a_branch": cast.bank_a_branch,
            "alice_job": job, "run": None, "loan": loan, "alice_demand": demand(cast.alice, cast.alice_co),
            "bob_demand": demand(cast.bob, cast.bob_co), "alice_draft": demand(cast.alice, cast.alice_co, False),
            "claimed_case": claimed, "round": round_, "gov_item": item, "gov_case": gov_case}


# (module, predicate, the object it is asked about or None, who gets True)
TABLE = [
    (accounts_access, "is_signed_in", None, SIGNED_IN),
    (accounts_access, "is_admin", None, ("olivia",)),
    (accounts_access, "is_registry_reader", None, REGISTRY_READERS),
    (accounts_access, "is_enterprise_user", None, ("alice", "bob")),
    (accounts_access, "is_institution_officer", None, ("bella", "bruno", "gary")),
    (accounts_access, "can_manage_accounts", None, ("olivia",)),
    (accounts_access, "can_act_for_institution", "bank_a_branch", ("olivia", "bella")),
    (accounts_access, "can_view_organisation", "bank_a_branch", ("olivia", "bella")),
    (enterprises_access, "is_own_enterprise", "alice_co", ("alice",)),
    (enterprises_access, "has_own_enterprise", None, ("alice", "bob")),
    (enterprises_access, "can_browse_registry", None, ("olivia", *REGISTRY_READERS)),
    (enterprises_access, "can_list_enterprises", None, ("olivia", *REGISTRY_READERS, "alice", "bob")),
    (enterprises_access, "can_view_enterprise", "alice_co", ("olivia", *REGISTRY_READERS, "alice")),
    (enterprises_access, "can_register_enterprise", None, ("olivia",)),
    (enterprises_access, "can_delete_enterprise", "alice_co", ("olivia",)),
    (enterprises_access, "can_edit_enterprise", "alice_co", ("olivia", "alice")),
    (enterprises_access, "can_view_enterprise_history", "alice_co", ("olivia",)),
    (enterprises_access, "can_manage_qualifications", "alice_co", ("olivia",)),
    (enterprises_access, "can_view_declarations", "alice_co", ("olivia", "alice")),
    (enterprises_access, "can_edit_declarations", "alice_co", ("olivia", "alice")),
    (enterprises_access, "can_verify_figures", None, ("olivia",)),
    (enterprises_access, "can_import", None, ("olivia", "alice", "bob")),
    (enterprises_access, "can_view_import_job", "alice_job", ("olivia", "alice")),
    (audit_access, "can_view_audit_trail", None, ("olivia",)),
    (points_access, "can_view_standards", None, SIGNED_IN),
    (points_access, "can_edit_standards", None, ("olivia",)),
    (points_access, "can_manage_runs", None, ("olivia",)),
    (points_access, "can_view_run", "run", ("olivia",)),
    (points_access, "can_view_points", "alice_co", ("olivia", "alice")),
    (points_access, "can_view_own_points", None, ("alice", "bob")),
    (points_access, "can_record_evaluation_inputs", "alice_co", ("olivia",)),
    (finance_access, "is_institution_officer", None, ("bella", "bruno", "gary")),
    (finance_access, "can_view_products", None, SIGNED_IN),
    (finance_access, "can_view_product", "loan", SIGNED_IN),
    (finance_access, "can_create_products", None, ("olivia", "bella", "bruno", "gary")),
    (finance_access, "can_manage_products", "bank_a_branch", ("olivia", "bella")),
    (finance_access, "can_match_own", None, ("alice", "bob")),
    (finance_access, "can_match", "alice_co", ("olivia", "alice", "bella")),  # bella: alice consented to her bank
    (finance_access, "can_institution_read", "alice_co", ("bella",)),
    (finance_access, "can_manage_consents", "alice_co", ("alice",)),
    (finance_access, "can_manage_own_consents", None, ("alice", "bob")),
    (finance_access, "can_view_consents", "alice_co", ("olivia", "alice")),
    (finance_access, "can_create_cases", None, ("alice", "bob")),
    (finance_access, "can_view_own_cases", None, ("alice", "bob")),
    (finance_access, "can_view_work_queue", None, ("bella", "bruno", "gary")),
    (finance_access, "can_view_overdue", None, ("olivia",)),
    (finance_access, "can_view_case", "alice_demand", ("olivia", "alice", "bella")),
    (finance_access, "can_view_case", "bob_demand", ("olivia", "bob", "bruno")),
    (finance_access, "can_view_case", "alice_draft", ("alice",)),
    (finance_access, "can_view_case", "claimed_case", ("olivia", "alice", "bella")),
    (finance_access, "is_offered_to", "alice_demand", ("bella",)),
    (finance_access, "is_offered_to", "claimed_case", ()),
    (finance_access, "can_act_as_enterprise", "alice_demand", ("alice",)),
    (finance_access, "can_claim", "alice_demand", ("bella",)),
    (finance_access, "can_claim", "bob_demand", ("bruno",)),
    (finance_access, "can_decide", "alice_demand", ()),
    (finance_access, "can_decide", "claimed_case", ("bella",)),
    (finance_access, "can_service", "claimed_case", ("bella",)),
    (finance_access, "can_view_dashboard", None, ("olivia", "bella", "bruno", "gary")),
    (notifications_access, "can_view_own_notifications", None, SIGNED_IN),
    (webhooks_access, "can_use_webhooks", None, ("olivia", "bella", "bruno", "gary")),
    (webhooks_access, "can_manage_webhooks_of", "bank_a_branch", ("olivia", "bella")),
    (finance_access, "can_view_whitelist", "loan", ("bella",)),
    (finance_access, "can_record_equity_round", "round", ("olivia", "alice")),
    (finance_access, "can_view_equity_rounds", "alice_co", ("olivia", "alice")),
    (govservices_access, "is_gov_clerk", None, ("clara", "chen", "hank")),
    (govservices_access, "can_view_catalogue", None, SIGNED_IN),
    (govservices_access, "can_view_item", "gov_item", SIGNED_IN),
    (govservices_access, "can_edit_catalogue", None, ("olivia",)),
    (govservices_access, "can_export_catalogue", None, ("olivia", "clara", "chen", "hank")),
    (govservices_access, "can_file_online", None, SIGNED_IN),
    (govservices_access, "can_take_intake", None, ("olivia", "clara", "chen")),
    # the applicant, the department, the halls of the item's city (Chongqing: clara), administrators
    (govservices_access, "can_view_case", "gov_case", ("olivia", "alice", "hank", "clara")),
    (govservices_access, "can_view_queue", None, ("olivia", "clara", "chen", "hank")),
    (govservices_access, "can_view_dashboard", None, ("olivia", "clara", "chen", "hank")),
]
# Answers that are not yes/no: asserted separately below.
NOT_BOOLEAN = {"own_enterprise", "editable_profile_fields", "institution_of", "consent_in_force",
               "routed_institution_of", "consent_for_each", "dashboard_institutions", "gov_office_of", "hall_of",
               "can_act"}  # can_act(user, case, action): test_gov_can_act_by_step
LIST_FORMS = {"organisations_visible", "users_visible", "tokens_visible", "enterprises_visible",
              "enterprises_editable", "declarations_visible", "import_jobs_visible", "institutions_managed",
              "enterprises_institution_may_read", "cases_visible", "demand_candidates", "notifications_visible",
              "deliveries_visible", "webhook_organisations", "endpoints_visible", "consents_in_force",
              "institutions_acted_for", "queue_departments"}


@pytest.mark.parametrize(("module", "name", "about", "allowed"), TABLE,
                         ids=[f"{m.__name__.split('.')[1]}.{n}" for m, n, _a, _w in TABLE])
def test_each_predicate_answers_for_the_whole_cast(people, objects, module, name, about, allowed):
    predicate = getattr(module, name)
    answers = {
        who: predicate(user) if about is None else predicate(user, objects[about])
        for who, user in people.items()
    }
    assert all(isinstance(answer, bool) for answer in answers.values()), answers
    assert sorted(who for who, answer in answers.items() if answer) == sorted(allowed)


def test_every_predicate_is_tested():
    tested = {(module.__name__, name) for module, name, _a, _w in TABLE}
    for module in (accounts_access, enterprises_access, audit_access, points_access, finance_access,
                   notifications_access, webhooks_access, govservices_access):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name in NOT_BOOLEAN | LIST_FORMS or name.startswith("_"):
                continue
            assert (module.__name__, name) in tested, f"{module.__name__}.{name} has no row in TABLE"


def test_the_editable_profile_fields_by_persona(people, objects):
    fields = {who: enterprises_access.editable_profile_fields(user, objects["alice_co"])
              for who, user in people.items()}
    assert fields.pop("olivia") == PROFILE_FIELD_NAMES
    assert fields.pop("alice") == COMPANY_EDITABLE_FIELDS
    assert {"name", "credit_code", "city", "district", "industry_cluster"}.isdisjoint(COMPANY_EDITABLE_FIELDS)
    assert "contact_person" in COMPANY_EDITABLE_FIELDS
    assert all(value == frozenset() for value in fields.values())


def test_own_enterprise_by_persona(people, cast):
    own = {who: enterprises_access.own_enterprise(user) for who, user in people.items()}
    assert own.pop("alice") == cast.alice_co
    assert own.pop("bob") == cast.bob_co
    assert set(own.values()) == {None}


def test_the_list_forms_agree_with_the_predicates(people, objects, cast):
    companies = (cast.alice_co, cast.bob_co)
    for who, user in people.items():
        for company in companies:
            listed = enterprises_access.enterprises_visible(user).filter(pk=company.pk).exists()
            assert listed == enterprises_access.can_view_enterprise(user, company), (who, company)
            editable = enterprises_access.enterprises_editable(user).filter(pk=company.pk).exists()
            assert editable == enterprises_access.can_edit_enterprise(user, company), (who, company)
        job = objects["alice_job"]
        assert enterprises_access.import_jobs_visible(user).filter(pk=job.pk).exists() == \
            enterprises_access.can_view_import_job(user, job), who
        for organisation in (cast.bank_a, cast.bank_a_branch, cast.bank_b_branch, cast.committee):
            assert accounts_access.organisations_visible(user).filter(pk=organisation.pk).exists() == \
                accounts_access.can_view_organisation(user, organisation), (who, organisation)
            assert accounts_access.institutions_acted_for(user).filter(pk=organisation.pk).exists() == (
                accounts_access.can_act_for_institution(user, organisation)
                and organisation.kind in INSTITUTION_KINDS), (who, organisation)
        # Tokens are listed to whoever may manage them, and to no one else.
        assert accounts_access.tokens_visible(user).query.is_empty() == (not accounts_access.can_manage_accounts(user))


def test_declarations_visible_agrees_with_can_view_declarations(people, cast):
    from twincity.enterprises.services import declaration_upsert

    for company in (cast.alice_co, cast.bob_co):
        declaration_upsert(actor=cast.olivia, enterprise=company, fiscal_year=2024, figures={"employees": 5})
    for who, user in people.items():
        for company in (cast.alice_co, cast.bob_co):
            listed = enterprises_access.declarations_visible(user).filter(enterprise=company).exists()
            assert listed == enterprises_access.can_view_declarations(user, company), (who, company)


def test_the_finance_list_forms_agree_with_the_predicates(people, objects, cast):
    institutions = (cast.bank_a, cast.bank_a_branch, cast.bank_b, cast.bank_b_branch, cast.guarantor)
    for who, user in people.items():
        for company in (cast.alice_co, cast.bob_co):
            listed = finance_access.enterprises_institution_may_read(user).filter(pk=company.pk).exists()
            assert listed == finance_access.can_institution_read(user, company), (who, company)
        for institution in institutions:
            managed = finance_access.institutions_managed(user).filter(pk=institution.pk).exists()
            assert managed == finance_access.can_manage_products(user, institution), (who, institution)


def test_the_financing_case_list_form_agrees_with_can_view_case(people, objects, cast):
    cases = [objects[key] for key in ("alice_demand", "bob_demand", "alice_draft", "claimed_case")]
    for who, user in people.items():
        for case in cases:
            listed = finance_access.cases_visible(user).filter(pk=case.pk).exists()
            assert listed == finance_access.can_view_case(user, case), (who, case)
    assert finance_access.routed_institution_of(cast.bella, objects["claimed_case"]) == cast.bank_a_branch
    assert finance_access.routed_institution_of(cast.bruno, objects["claimed_case"]) is None
    assert list(finance_access.demand_candidates(objects["alice_demand"])) == [cast.bank_a_branch]


def test_the_webhook_list_forms_agree_with_the_predicates(people, cast):
    from twincity.webhooks.models import Endpoint

    organisations = (cast.bank_a, cast.bank_a_branch, cast.bank_b, cast.bank_b_branch, cast.guarantor)
    endpoints = {o.pk: Endpoint.objects.create(organisation=o, url="https://x.example/", events=["*"])
                 for o in organisations}
    for who, user in people.items():
        for organisation in organisations:
            allowed = webhooks_access.can_manage_webhooks_of(user, organisation)
            assert webhooks_access.webhook_organisations(user).filter(pk=organisation.pk).exists() == allowed, who
            assert webhooks_access.endpoints_visible(user).filter(pk=endpoints[organisation.pk].pk).exists() == \
                allowed, (who, organisation)


def test_the_dashboard_s_institutions_by_persona(people, cast):
    """Whose figures each person sees on the finance dashboard: olivia every case (None), an officer its own
    institution (a branch: itself), everyone else nothing; agrees with can_view_dashboard."""
    scope = {who: finance_access.dashboard_institutions(user) for who, user in people.items()}
    assert scope.pop("olivia") is None
    assert scope.pop("bella") == [cast.bank_a_branch.pk]
    assert scope.pop("bruno") == [cast.bank_b_branch.pk]
    assert scope.pop("gary") == [cast.guarantor.pk]
    assert all(value == [] for value in scope.values())


@pytest.mark.parametrize(("action", "allowed"), [
    ("accept", ("olivia", "clara", "hank")),  # a hall of the item's city, or the department
    ("decide", ("olivia", "hank")),  # the department only
    ("pause", ("olivia", "hank")),
    ("withdraw", ("olivia", "alice")),  # the applicant
    ("forward", ("olivia",)),  # the collecting hall (an online case has none)
    ("rate", ("alice",)),  # the applicant only
])
def test_gov_can_act_by_step(people, objects, action, allowed):
    answers = {who: govservices_access.can_act(user, objects["gov_case"], action) for who, user in people.items()}
    assert sorted(who for who, answer in answers.items() if answer) == sorted(allowed)


def test_gov_cases_visible_agrees_with_can_view_case(people, objects):
    for who, user in people.items():
        listed = govservices_access.cases_visible(user).filter(pk=objects["gov_case"].pk).exists()
        assert listed == govservices_access.can_view_case(user, objects["gov_case"]), who
