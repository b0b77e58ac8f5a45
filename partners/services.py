from django.db.models import Q
from django.utils import timezone

from core.text import clean_email, clean_name
from partners.models import Partner


def _partner(
    *,
    owner,
    name: str,
    email: str = "",
    phone: str = "",
    company: str = "",
    title: str = "",
    kind: str = Partner.Kind.CUSTOMER,
    **fields,
) -> Partner:
    return Partner(
        owner=owner,
        name=clean_name(name),
        email=clean_email(email),
        phone=phone,
        company=clean_name(company),
        title=title,
        kind=kind,
        email_consent_at=timezone.now(),
        **fields,
    )


def partner_create(**fields) -> Partner:
    """A new referral source, owned by the rep who will look after them."""
    partner = _partner(**fields)
    partner.full_clean()
    partner.save()
    return partner


def partner_new(**fields) -> Partner:
    """A new referral source as partner_create makes it, checked (lengths,
    formats, choices: a ValidationError keyed by its fields) but not saved,
    with no query: the caller has checked the owner, and saves it in its own
    transaction (referral_log: a source logged with its first referral)."""
    partner = _partner(**fields)
    partner.full_clean(exclude=["owner"])
    return partner


def partner_thanked(*, partner_id: int, at) -> None:
    """Note that the source was thanked at `at` (a thank-you sent or done).

    Only moves forward: a late record of an older thank-you changes nothing.
    """
    Partner.objects.filter(pk=partner_id).filter(
        Q(last_thanked_at__isnull=True) | Q(last_thanked_at__lt=at)
    ).update(last_thanked_at=at)
