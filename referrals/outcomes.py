"""A won referral's prospect becomes a customer: what we promised them and
what we delivered is recorded against their customer source (partners'
Outcome), which is whom Ready to ask suggests (partners.asking).

The pipeline is the lowest app that sees both a referral and its prospect's
customer source, so finding (or making) that source lives here.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.scoping import scope_for_user
from partners.models import Outcome, Partner
from partners.services import NOT_WON, outcome_record, partner_create
from referrals.models import Referral, Stage


def referral_customer(*, referral: Referral, user) -> Partner | None:
    """The customer source of a referral's prospect, if there is one the
    user may see: the one an outcome of this referral was recorded on, else
    a customer with the prospect's email. None: recording an outcome makes
    one."""
    earlier = (
        Outcome.objects.filter(referral=referral)
        .order_by("pk")
        .values_list("partner", flat=True)[:1]
    )
    customers = scope_for_user(
        Partner.objects.filter(kind=Partner.Kind.CUSTOMER), user
    ).select_related("owner")
    found = customers.filter(pk__in=earlier).first()
    if found is None and referral.prospect_email:
        found = (
            customers.filter(email__iexact=referral.prospect_email)
            .order_by("pk")
            .first()
        )
    return found


def referral_outcome_record(*, referral: Referral, user, **outcome) -> Outcome:
    """Record an outcome for a won referral's prospect.

    1. Lock the referral and check it is won (a referral moved back out of
       Won since the form was shown is refused).
    2. Find the prospect's customer source (referral_customer), or create
       it: kind customer, the prospect's name, company, email, phone and
       title, owned by the referral's owner (partners.services.partner_create).
    3. Record the outcome on it, remembering the referral
       (partners.services.outcome_record, which checks again).
    """
    with transaction.atomic():
        locked = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("stage", "owner")
            .get(pk=referral.pk)
        )
        if locked.stage.kind != Stage.Kind.WON:
            raise ValidationError(NOT_WON.format(stage=locked.stage.name))
        customer = referral_customer(referral=locked, user=user)
        if customer is None:
            customer = partner_create(
                owner=locked.owner,
                name=locked.prospect_name,
                email=locked.prospect_email,
                phone=locked.prospect_phone,
                company=locked.prospect_company,
                title=locked.prospect_title,
                kind=Partner.Kind.CUSTOMER,
            )
        return outcome_record(partner=customer, user=user, referral=locked, **outcome)
