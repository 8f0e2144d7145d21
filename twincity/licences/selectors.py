"""Reads of 一业一证: what a person may open (404 otherwise), shared by the pages and the API. The lists are
`access.applications_visible` (the list form of `can_view_application`)."""

from twincity.core.access import visible_to
from twincity.licences import access
from twincity.licences.models import ApplicationComponent, IndustryLicence, IndustryPackage, PackageApplication

NO_PACKAGE = "套餐不存在 (no such package)"
NO_APPLICATION = "申请不存在 (no such application)"
NO_LICENCE = "许可证不存在 (no such licence)"
NO_COMPONENT = "许可不存在 (no such component)"


def package_for(user, pk: int) -> IndustryPackage:
    return visible_to(user, IndustryPackage.objects.filter(pk=pk).first(), access.can_view_package, NO_PACKAGE)


def application_for(user, pk: int) -> PackageApplication:
    return visible_to(user, PackageApplication.objects.select_related("package", "enterprise").filter(pk=pk).first(),
                      access.can_view_application, NO_APPLICATION)


def licence_for(user, pk: int) -> IndustryLicence:
    return visible_to(user, IndustryLicence.objects.select_related("application").filter(pk=pk).first(),
                      access.can_view_licence, NO_LICENCE)


def component_for(user, pk: int) -> ApplicationComponent:
    return visible_to(user, ApplicationComponent.objects.select_related("application", "case").filter(pk=pk).first(),
                      access.can_view_component, NO_COMPONENT)
