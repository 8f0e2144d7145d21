"""Who may see and do what in public services: one predicate per decision, used by views, the API, the services
and the navigation.

* The catalogue is public to everyone signed in; administrators edit it (new versions).
* Anyone signed in files a case online; a service hall's clerk takes one at the window, for either city's items.
* A case is seen by its applicant (the user, or the users of the applying enterprise), the clerks of its
  department, of the hall that collected it, and of the halls of the item's city; administrators see all.
* Steps (rules.ACTOR_OF): the applicant resubmits and withdraws; the collecting hall forwards; acceptance,
  the one-time notice, refusal at intake, delivery and closing are done by the department or a hall of the item's
  city (一窗受理、受办分离); pauses and the decision by the department only. Administrators may do every step.
"""

from django.db.models import Q, QuerySet

from twincity.accounts.access import is_admin, is_signed_in
from twincity.accounts.models import Organisation, User
from twincity.enterprises.access import is_own_enterprise
from twincity.govservices import rules
from twincity.govservices.models import ServiceCase, ServiceHall, ServiceItem


def gov_office_of(user) -> Organisation | None:
    """The government office a clerk works for (None for anyone else)."""
    if (
        not is_signed_in(user)
        or user.role != User.Role.CLERK
        or user.organisation_id is None
        or user.organisation.kind != Organisation.Kind.GOVERNMENT
    ):
        return None
    return user.organisation


def hall_of(user) -> ServiceHall | None:
    """The service hall a clerk works at (None for a department clerk and anyone else)."""
    office = gov_office_of(user)
    if office is None:
        return None
    return ServiceHall.objects.filter(organisation=office).first()


def is_gov_clerk(user) -> bool:
    return gov_office_of(user) is not None


# --- catalogue ----------------------------------------------------------------------------------------------


def can_view_catalogue(user) -> bool:
    return is_signed_in(user)


def can_view_item(user, item: ServiceItem) -> bool:
    """Published and superseded versions: everyone signed in; withdrawn ones: clerks and administrators."""
    if item.status != ServiceItem.Status.WITHDRAWN:
        return can_view_catalogue(user)
    return is_admin(user) or is_gov_clerk(user)


def can_edit_catalogue(user) -> bool:
    """Create items, publish new versions, withdraw, import: administrators."""
    return is_admin(user)


def can_export_catalogue(user) -> bool:
    return is_admin(user) or is_gov_clerk(user)


# --- cases --------------------------------------------------------------------------------------------------


def can_file_online(user) -> bool:
    """File a case online (网上办理): anyone signed in, for themselves or their enterprise."""
    return is_signed_in(user)


def can_take_intake(user) -> bool:
    """Take a case at a service window: the hall's clerks (and administrators, for a hall they name)."""
    return is_admin(user) or hall_of(user) is not None


def _is_applicant(user, case: ServiceCase) -> bool:
    if not is_signed_in(user):
        return False
    if case.applicant_user_id == user.pk:
        return True
    return case.enterprise is not None and is_own_enterprise(user, case.enterprise)


def _is_city_hall_clerk(user, city: str) -> bool:
    hall = hall_of(user)
    return hall is not None and hall.city == city


def can_view_case(user, case: ServiceCase) -> bool:
    if is_admin(user) or _is_applicant(user, case):
        return True
    office = gov_office_of(user)
    if office is None:
        return False
    return office.pk in (case.department_id, case.intake_office_id) or _is_city_hall_clerk(user, case.item.city)


def cases_visible(user) -> QuerySet[ServiceCase]:
    """`can_view_case` as a query."""
    cases = ServiceCase.objects.select_related("item", "department", "intake_office")
    if is_admin(user):
        return cases
    if not is_signed_in(user):
        return cases.none()
    mine = Q(applicant_user=user)
    if user.organisation_id is not None and user.role == User.Role.ENTERPRISE_USER:
        mine |= Q(enterprise__organisation_id=user.organisation_id)
    office = gov_office_of(user)
    if office is not None:
        mine |= Q(department=office) | Q(intake_office=office)
        hall = hall_of(user)
        if hall is not None:
            mine |= Q(item__city=hall.city)
    return cases.filter(mine)


def _acts_for_walk_in_applicant(user, case: ServiceCase) -> bool:
    """A case taken at a window for someone without an account: the collecting hall's clerks act for the
    applicant there (resubmit, withdraw, record the rating given on the window's device)."""
    if case.applicant_user_id is not None or case.enterprise_id is not None or case.intake_office_id is None:
        return False
    office = gov_office_of(user)
    return office is not None and office.pk == case.intake_office_id


def can_act(user, case: ServiceCase, action: str) -> bool:
    """Whether this person may take `action` (a rules action, or "supply" / "rate") on the case. The state is
    the rules' business; this is who."""
    if action == "rate":
        return _is_applicant(user, case) or _acts_for_walk_in_applicant(user, case)
    if action == "supply":
        return _is_applicant(user, case) or can_act(user, case, "accept")
    if is_admin(user):
        return True
    actor = rules.ACTOR_OF.get(action)
    if actor == rules.APPLICANT:
        return _is_applicant(user, case) or _acts_for_walk_in_applicant(user, case)
    office = gov_office_of(user)
    if office is None:
        return False
    if actor == rules.HALL:
        return office.pk == case.intake_office_id
    if action in ("pause", "resume", "decide"):
        return office.pk == case.department_id
    return office.pk == case.department_id or _is_city_hall_clerk(user, case.item.city)


def can_view_queue(user) -> bool:
    """The work queues: clerks (their department's or hall's) and administrators (every department)."""
    return is_admin(user) or is_gov_clerk(user)


def queue_departments(user) -> QuerySet[Organisation]:
    """The departments whose queue this person sees: a department clerk's own; a hall clerk's city's
    departments; administrators every department with an item."""
    departments = Organisation.objects.filter(kind=Organisation.Kind.GOVERNMENT, service_cases__isnull=False).distinct()
    if is_admin(user):
        return departments
    office = gov_office_of(user)
    if office is None:
        return Organisation.objects.none()
    hall = hall_of(user)
    if hall is not None:
        return departments.filter(city=hall.city)
    return Organisation.objects.filter(pk=office.pk)


def can_view_dashboard(user) -> bool:
    return is_admin(user) or is_gov_clerk(user)
