from django.db import transaction
from django.db.models import F
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


def partner_opt_out(*, partner: Partner) -> bool:
    """The source asked for no more email. Returns False if they already had.

    They are still thanked: pending thank-you emails become calls for the rep.
    """
    from referrals.models import Touchpoint

    with transaction.atomic():
        changed = Partner.objects.filter(
            pk=partner.pk, email_consent=Partner.Consent.OPTED_IN
        ).update(
            email_consent=Partner.Consent.OPTED_OUT, email_consent_at=timezone.now()
        )
        Touchpoint.objects.filter(
            source=partner,
            channel=Touchpoint.Channel.EMAIL,
            status__in=[Touchpoint.Status.SCHEDULED, Touchpoint.Status.FAILED],
        ).update(
            channel=Touchpoint.Channel.CALL,
            status=Touchpoint.Status.SCHEDULED,
            due_at=F("deadline_at"),
        )
    return bool(changed)
