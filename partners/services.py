from django.db import transaction
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
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


def partner_thanked(*, partner_id: int, at) -> None:
    """Note that the source was thanked at `at` (a thank-you sent or done).

    Only moves forward: a late record of an older thank-you changes nothing.
    """
    Partner.objects.filter(pk=partner_id).filter(
        Q(last_thanked_at__isnull=True) | Q(last_thanked_at__lt=at)
    ).update(last_thanked_at=at)


def partners_last_thanked_rebuild(*, partner_ids=None) -> None:
    """Recompute when each source was last thanked, from its thank-yous."""
    from referrals.models import Touchpoint

    last = (
        Touchpoint.objects.filter(source=OuterRef("pk"), status__in=Touchpoint.FINISHED)
        .order_by()
        .values("source")
        .annotate(at=Max(Coalesce("sent_at", "completed_at")))
        .values("at")
    )
    partners = Partner.objects.all()
    if partner_ids is not None:
        partners = partners.filter(pk__in=partner_ids)
    partners.update(last_thanked_at=Subquery(last))
