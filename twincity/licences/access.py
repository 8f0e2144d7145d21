"""Who may see and do what with 一业一证 packages: one predicate per decision, used by views, the API, the
services and the navigation.

* Packages are public to everyone signed in; administrators edit them (new versions) and import them.
* An enterprise user applies online for their company; a service hall's clerk takes an application at the window
  for a company (either city's packages: one of the other city's is collected there and forwarded).
* An application is seen by its applicant (the user or the users of the company), the halls of the package's
  city and of the collecting window, the departments that handle one of its component cases, administrators.
* The joint inspection (一同核查) and the issue of the licence (统一出件) are the package city's hall's (or an
  administrator's); a component's certificate is renewed or revoked by its department or that hall.
"""

from twincity.accounts.access import is_admin, is_signed_in
from twincity.enterprises.access import is_own_enterprise, own_enterprise
from twincity.govservices.access import gov_office_of, hall_of
from twincity.licences.models import ApplicationComponent, IndustryLicence, IndustryPackage, PackageApplication


def can_view_packages(user) -> bool:
    return is_signed_in(user)


def can_view_package(user, package: IndustryPackage) -> bool:
    if package.status != IndustryPackage.Status.WITHDRAWN:
        return can_view_packages(user)
    return is_admin(user) or gov_office_of(user) is not None


def can_edit_packages(user) -> bool:
    return is_admin(user)


def can_export_packages(user) -> bool:
    return is_admin(user) or gov_office_of(user) is not None


def can_apply_online(user) -> bool:
    """File a package online: an enterprise user whose company is in the registry."""
    return own_enterprise(user) is not None


def can_take_intake(user) -> bool:
    """Take a package at a service window, for a company: a service hall's clerk."""
    return hall_of(user) is not None


def can_apply(user) -> bool:
    return can_apply_online(user) or can_take_intake(user)


def _is_applicant(user, application: PackageApplication) -> bool:
    if not is_signed_in(user):
        return False
    if application.applicant_user_id == user.pk:
        return True
    return application.enterprise is not None and is_own_enterprise(user, application.enterprise)


def _is_package_city_hall(user, application: PackageApplication) -> bool:
    hall = hall_of(user)
    return hall is not None and hall.city == application.package.city


def can_view_application(user, application: PackageApplication) -> bool:
    if is_admin(user) or _is_applicant(user, application):
        return True
    office = gov_office_of(user)
    if office is None:
        return False
    if _is_package_city_hall(user, application) or office.pk == application.intake_office_id:
        return True
    return application.components.filter(case__department=office).exists()


def can_view_licence(user, licence: IndustryLicence) -> bool:
    """A licence is seen by whoever sees its application."""
    return can_view_application(user, licence.application)


def can_view_component(user, component: ApplicationComponent) -> bool:
    """A component permit is seen by whoever sees its application."""
    return can_view_application(user, component.application)


def can_set_licence_disclosure(user, application: PackageApplication) -> bool:
    """What the licence's public page shows is the holder's choice: the applicant's people, administrators."""
    return is_admin(user) or _is_applicant(user, application)


def can_submit(user, application: PackageApplication) -> bool:
    """Fill the one form and submit: the applicant, or the clerk of the window that took it."""
    if _is_applicant(user, application):
        return True
    office = gov_office_of(user)
    return office is not None and application.intake_office_id == office.pk


def can_inspect(user, application: PackageApplication) -> bool:
    """Record the joint inspection and issue the licence: the hall of the package's city, administrators."""
    return is_admin(user) or _is_package_city_hall(user, application)


can_issue = can_inspect


def can_change_component(user, component: ApplicationComponent) -> bool:
    """Renew or revoke a component's certificate: its department, the package city's hall, administrators."""
    if is_admin(user):
        return True
    office = gov_office_of(user)
    if office is None:
        return False
    return office.pk == component.case.department_id or _is_package_city_hall(user, component.application)


def can_view_hall_list(user) -> bool:
    """The list of applications of the halls and departments (一业一证办件)."""
    return is_admin(user) or gov_office_of(user) is not None


def applications_visible(user):
    """`can_view_application` as a query."""
    from django.db.models import Q

    apps = PackageApplication.objects.select_related("package", "enterprise")
    if is_admin(user):
        return apps
    if not is_signed_in(user):
        return apps.none()
    mine = Q(applicant_user=user)
    enterprise = own_enterprise(user)
    if enterprise is not None:
        mine |= Q(enterprise=enterprise)
    office = gov_office_of(user)
    if office is not None:
        mine |= Q(intake_office=office) | Q(components__case__department=office)
        hall = hall_of(user)
        if hall is not None:
            mine |= Q(package__city=hall.city)
    return apps.filter(mine).distinct()
