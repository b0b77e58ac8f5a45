from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team
from accounts.scoping import get_for_user_or_404
from core.forms import saved
from partners import asking
from partners.forms import (
    FIT_FILTERS,
    GivenReferralForm,
    OutcomeForm,
    PartnerFilterForm,
    PartnerForm,
    SourceSearchForm,
    TeamFocusForm,
)
from partners.models import GivenReferral, Outcome, Partner
from partners.selectors import (
    partner_for_user,
    partner_health,
    partner_list_page,
    partner_plan,
    partners_matching,
    reciprocity,
    source_referrals,
    with_referral_stats,
)
from partners.services import (
    given_referral_record,
    given_referral_update,
    outcome_record,
    outcome_update,
    partner_create,
    partner_fit,
    partner_update,
    team_focus_for,
    team_focus_save,
)

SAVED = "Source saved."
GIVEN_SAVED = "Referral given to {partner} saved."
FOCUS_SAVED = (
    "{team}'s focus saved: each referral partner's fit is measured against it."
)
ADDED = "Source added."
OUTCOME_SAVED = "Outcome saved."


@login_required
def partner_list(request):
    form = PartnerFilterForm(request.GET)
    filters = form.values()
    page = partner_list_page(
        user=request.user, **filters, number=request.GET.get("page")
    )
    if filters["ready"]:  # the Ready to ask list: each row says why
        _with_why(page.object_list)
    return render(
        request,
        "partners/partner_list.html",
        {
            "form": form,
            "page": page,
            "q": filters["query"],
            "kind": filters["kind"],
            "sort": filters["sort"],
            "kinds": Partner.Kind.choices,
            "ready": filters["ready"],
            "fit": filters["fit"],
            "fit_filters": FIT_FILTERS.items(),
            "dormant": filters["dormant"],
            "dormant_days": settings.PARTNER_DORMANT_DAYS,
        },
    )


def _with_why(partners: list[Partner]) -> None:
    """Why each customer of the Ready to ask list is suggested (two
    queries, on the page's rows)."""
    now = timezone.now()
    rows = asking.customer_rows(
        asking.with_readiness(
            Partner.objects.filter(pk__in=[partner.pk for partner in partners]),
            now=now,
        ).select_related("owner"),
        now=now,
    )
    why = {row["pk"]: row["why"] for row in rows}
    for partner in partners:
        partner.ask_why = why.get(partner.pk, "")


@login_required
def partner_detail(request, pk):
    # Read with whether they are ready to ask (a customer's Asking card).
    partner = get_for_user_or_404(
        asking.with_readiness(
            Partner.objects.select_related("owner__team"), now=timezone.now()
        ),
        request.user,
        pk,
    )
    stats = with_referral_stats(Partner.objects.filter(pk=partner.pk)).get()
    referrals = source_referrals(user=request.user, partner=partner)
    given = reciprocity(partner=partner, stats=stats)
    plan = _plan(partner)
    fit = partner_fit(partner=partner) if partner.kind == Partner.Kind.PARTNER else None
    return render(
        request,
        "partners/partner_detail.html",
        {
            "partner": partner,
            "stats": stats,
            "referrals": referrals,
            "fit": fit,
            "fit_team": partner.owner.team if fit else None,
            # Given against received (two queries).
            "reciprocity": given,
            # A referral partner's plan, or any source's that has one (one
            # query).
            "plan": plan,
            # A referral partner's health, from the above (no query).
            "health": partner_health(
                partner=partner, stats=stats, given=given, plan=plan
            )
            if partner.kind == Partner.Kind.PARTNER
            else None,
            # Outcomes, asks and why (two queries, customers only).
            "asking": asking.customer_asking(partner=partner)
            if partner.kind == Partner.Kind.CUSTOMER
            else None,
        },
    )


def _plan(partner: Partner) -> dict | None:
    plan = partner_plan(partner=partner)
    if partner.kind == Partner.Kind.PARTNER or plan["commitments"]:
        return plan
    return None


@login_required
def partner_new(request):
    form = PartnerForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {
            **form.cleaned_data,
            "owner": form.cleaned_data["owner"] or request.user,
        }
        partner = partner_create(**fields)
        messages.success(request, ADDED)
        return redirect(partner)
    return render(request, "partners/partner_form.html", {"form": form})


@login_required
def partner_edit(request, pk):
    partner = partner_for_user(user=request.user, pk=pk)
    consent_before = partner.email_consent
    form = PartnerForm(request.POST or None, instance=partner, user=request.user)
    if request.method == "POST" and form.is_valid():
        partner = partner_update(
            partner=form.save(commit=False), consent_before=consent_before
        )
        messages.success(request, SAVED)
        return redirect(partner)
    return render(
        request, "partners/partner_form.html", {"form": form, "partner": partner}
    )


@login_required
def partner_search(request):
    """htmx autocomplete for the Log referral form: the user's matching sources."""
    form = SourceSearchForm(request.GET)
    query = form.cleaned_data["source_query"].strip() if form.is_valid() else ""
    matches = partners_matching(user=request.user, query=query)[:8] if query else []
    return render(
        request,
        "partners/_source_options.html",
        {"matches": matches, "query": query, "errors": form.errors.get("source_query")},
    )


def _customer_for_user(user, pk) -> Partner:
    """A customer source the user may see; 404 for any other source: only a
    customer's outcomes are recorded."""
    partner = partner_for_user(user=user, pk=pk)
    if partner.kind != Partner.Kind.CUSTOMER:
        raise Http404("Only customers have outcomes.")
    return partner


def _outcome_page(request, partner, form, outcome=None, status=200):
    return render(
        request,
        "partners/outcome_form.html",
        {"partner": partner, "form": form, "outcome": outcome},
        status=status,
    )


@login_required
def outcome_new(request, pk):
    """Record an outcome on a customer's page: what was promised and by
    when, and what was delivered once it is."""
    partner = _customer_for_user(request.user, pk)
    form = OutcomeForm(request.POST or None)
    if request.method == "POST":
        if saved(
            form,
            lambda data: outcome_record(partner=partner, user=request.user, **data),
        ):
            messages.success(request, OUTCOME_SAVED)
            return redirect(partner)
        return _outcome_page(request, partner, form, status=400)
    return _outcome_page(request, partner, form)


@login_required
def outcome_edit(request, pk):
    """Revise an outcome: most often, what was delivered, when, on budget or
    not, and how satisfied the customer is."""
    outcome = get_for_user_or_404(
        Outcome.objects.select_related("partner__owner"),
        request.user,
        pk,
        owner_field="partner__owner",
    )
    partner = outcome.partner
    if partner.kind != Partner.Kind.CUSTOMER:
        raise Http404("Only customers have outcomes.")
    form = OutcomeForm(request.POST or None, instance=outcome)
    if request.method == "POST":
        if saved(
            form,
            lambda data: outcome_update(outcome=outcome, user=request.user, **data),
        ):
            messages.success(request, OUTCOME_SAVED)
            return redirect(partner)
        return _outcome_page(request, partner, form, outcome, status=400)
    return _outcome_page(request, partner, form, outcome)


# -- The team's focus (/partners/focus/): whom the team sells to ----------------


def _focus_teams(user) -> list[Team]:
    """The teams whose focus `user` keeps: every team for an admin, those
    they manage for a manager, none for a rep."""
    if user.is_admin:
        return list(Team.objects.order_by("name"))
    if user.is_manager:
        return list(user.managed_teams.order_by("name"))
    return []


def _focus_team(request, editable: list[Team]) -> Team | None:
    """The team of the page: ?team= (or the POST's) among those the user
    keeps, else the first of them, else the user's own (read-only)."""
    raw = request.POST.get("team") or request.GET.get("team")
    own = request.user.team
    if raw and own is not None and str(own.pk) == raw and own not in editable:
        return own  # their own team's, to read (the partner page's link)
    if raw:
        picked = [team for team in editable if str(team.pk) == raw]
        if not picked:
            raise Http404("No such team, or not one you keep the focus of.")
        return picked[0]
    return editable[0] if editable else request.user.team


@login_required
def team_focus(request):
    """Whom the team sells to (buyers' roles, industries, company sizes):
    its manager or an admin edits it, a rep reads it."""
    editable = _focus_teams(request.user)
    team = _focus_team(request, editable)
    focus = team_focus_for(team_id=team.pk) if team else None
    may_edit = team is not None and team in editable
    form = TeamFocusForm(request.POST or None, instance=focus) if may_edit else None
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("Only the team's manager or an admin sets it.")
        if form.is_valid():
            team_focus_save(team=team, user=request.user, **form.cleaned_data)
            messages.success(request, FOCUS_SAVED.format(team=team))
            return redirect(f"{reverse('team_focus')}?team={team.pk}")
    return render(
        request,
        "partners/team_focus.html",
        {
            "team": team,
            "teams": editable if len(editable) > 1 else [],
            "focus": focus,
            "form": form,
        },
        status=400 if form is not None and form.errors else 200,
    )


# -- Referrals we give a partner (reciprocity) ----------------------------------


def _given_page(request, partner, form, given=None, status=200):
    return render(
        request,
        "partners/given_form.html",
        {"partner": partner, "form": form, "given": given},
        status=status,
    )


@login_required
def given_new(request, pk):
    """Record a referral we gave the source: whom we introduced, when."""
    partner = partner_for_user(user=request.user, pk=pk)
    form = GivenReferralForm(
        request.POST or None, initial={"given_on": timezone.localdate()}
    )
    if request.method == "POST":
        if saved(
            form,
            lambda data: given_referral_record(
                partner=partner, user=request.user, **data
            ),
        ):
            messages.success(request, GIVEN_SAVED.format(partner=partner.name))
            return redirect(partner)
        return _given_page(request, partner, form, status=400)
    return _given_page(request, partner, form)


@login_required
def given_edit(request, pk):
    """Revise a referral given: most often, how it turned out."""
    given = get_for_user_or_404(
        GivenReferral.objects.select_related("partner__owner"),
        request.user,
        pk,
        owner_field="partner__owner",
    )
    partner = given.partner
    form = GivenReferralForm(request.POST or None, instance=given)
    if request.method == "POST":
        if saved(form, lambda data: given_referral_update(given=given, **data)):
            messages.success(request, GIVEN_SAVED.format(partner=partner.name))
            return redirect(partner)
        return _given_page(request, partner, form, given, status=400)
    return _given_page(request, partner, form, given)
