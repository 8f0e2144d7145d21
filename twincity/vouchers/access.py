"""Who may see and do what with innovation vouchers: one predicate per decision.

* A city office is an administrator of a government organisation of that city (its science bureau / management
  committee): it defines the city's batches, issues vouchers, records test-subsidy and post-subsidy claims,
  settles claims and exports them. A platform administrator of no city's office (e.g. a superuser) acts for
  both cities.
* An enterprise's users see their vouchers and their uses, pay with them, attach evidence and, in the
  reimbursement mode (企业兑付), claim the voucher part back.
* A provider's instrument staff (role instrument_owner of the provider's legal entity) see the redemptions at
  their institution, attach evidence and, in the direct mode (机构兑付), claim the voucher part.
"""

from django.db.models import Q, QuerySet

from twincity.accounts.access import is_admin, is_enterprise_user, is_signed_in
from twincity.accounts.models import City, Organisation, User
from twincity.vouchers.models import Redemption, SettlementMode, Voucher, VoucherBatch

PROVIDER_KINDS = (Organisation.Kind.INSTITUTE,)


def office_cities(user) -> tuple[str, ...]:
    """The cities whose voucher office a person acts for: an administrator of a government organisation with a
    city acts for that city; an administrator of no city's office for both; anyone else for none."""
    if not is_admin(user):
        return ()
    organisation = user.organisation.root if user.organisation_id else None
    if organisation is not None and organisation.kind == Organisation.Kind.GOVERNMENT and organisation.city:
        return (organisation.city,)
    return tuple(City.values)


def office_of(user) -> Organisation | None:
    """The office organisation (legal entity) a city office's person acts for."""
    if len(office_cities(user)) != 1:
        return None
    return user.organisation.root


def is_office(user) -> bool:
    return bool(office_cities(user))


def can_manage_city(user, city: str) -> bool:
    """Define batches of the city, issue their vouchers, settle and export their claims."""
    return city in office_cities(user)


def can_manage_batch(user, batch: VoucherBatch) -> bool:
    return can_manage_city(user, batch.city)


def batches_managed(user) -> QuerySet[VoucherBatch]:
    """The list form of `can_manage_batch`."""
    return VoucherBatch.objects.filter(city__in=office_cities(user))


def can_register_subsidy(user) -> bool:
    """Record a test-subsidy or post-subsidy claim on a job in the registry (a city office)."""
    return is_office(user)


# --- enterprises -----------------------------------------------------------------------------------------------


def can_hold_vouchers(user) -> bool:
    """Enterprise users have a "my vouchers" page."""
    return is_enterprise_user(user)


def _member(user, organisation_id: int) -> bool:
    return is_signed_in(user) and user.organisation_id is not None and user.organisation_id == organisation_id


def can_use_voucher(user, voucher: Voucher) -> bool:
    """Pay a job of the holder with it: the holder's enterprise users."""
    return is_enterprise_user(user) and _member(user, voucher.holder_id)


def can_view_voucher(user, voucher: Voucher) -> bool:
    return _member(user, voucher.holder_id) or can_manage_city(user, voucher.batch.city)


def vouchers_held(user) -> QuerySet[Voucher]:
    if not is_signed_in(user) or user.organisation_id is None:
        return Voucher.objects.none()
    return Voucher.objects.filter(holder_id=user.organisation_id)


# --- providers -------------------------------------------------------------------------------------------------


def provider_of(user) -> Organisation | None:
    """The provider institution (legal entity) whose instrument staff a person is."""
    if not is_signed_in(user) or user.role != User.Role.INSTRUMENT_OWNER or user.organisation_id is None:
        return None
    organisation = user.organisation.root
    return organisation if organisation.kind in PROVIDER_KINDS else None


def _provider_staff(user, redemption: Redemption) -> bool:
    provider = provider_of(user)
    return provider is not None and provider.pk == redemption.provider.root_id


def can_view_provider_redemptions(user) -> bool:
    """The provider's "voucher redemptions" page: instrument staff, and the offices."""
    return provider_of(user) is not None or is_office(user)


def redemptions_at_provider(user) -> QuerySet[Redemption]:
    if is_office(user):
        return Redemption.objects.filter(voucher__batch__city__in=office_cities(user))
    provider = provider_of(user)
    if provider is None:
        return Redemption.objects.none()
    return Redemption.objects.filter(Q(provider_id=provider.pk) | Q(provider__parent_id=provider.pk))


# --- redemptions -----------------------------------------------------------------------------------------------


def can_view_redemption(user, redemption: Redemption) -> bool:
    return (_member(user, redemption.voucher.holder_id) or _provider_staff(user, redemption)
            or can_manage_city(user, redemption.voucher.batch.city))


def can_attach_evidence(user, redemption: Redemption) -> bool:
    """The holder's users and the provider's staff build the bundle."""
    return (is_enterprise_user(user) and _member(user, redemption.voucher.holder_id)) or _provider_staff(
        user, redemption)


def can_claim_settlement(user, redemption: Redemption) -> bool:
    """Ask the office for the voucher part: the enterprise in the reimbursement mode, the provider in the
    direct mode."""
    if redemption.settlement_mode == SettlementMode.REIMBURSEMENT:
        return is_enterprise_user(user) and _member(user, redemption.voucher.holder_id)
    return _provider_staff(user, redemption)


def can_settle(user, redemption: Redemption) -> bool:
    """Approve (兑付核销) or send back a claim: the office of the voucher's city."""
    return can_manage_city(user, redemption.voucher.batch.city)
