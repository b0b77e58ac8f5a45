from django.utils import timezone

from partners.models import Partner


def partner_create(
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
    """A new referral source, owned by the rep who will look after them."""
    partner = Partner(
        owner=owner,
        name=name.strip(),
        email=email.strip().lower(),
        phone=phone,
        company=company.strip(),
        title=title,
        kind=kind,
        email_consent_at=timezone.now(),
        **fields,
    )
    partner.full_clean()
    partner.save()
    return partner
