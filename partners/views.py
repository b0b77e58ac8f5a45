from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone

from partners.forms import PartnerFilterForm, PartnerForm, SourceSearchForm
from partners.models import Partner
from partners.selectors import (
    partner_for_user,
    partner_list_page,
    partners_matching,
    source_referrals,
    with_referral_stats,
)
from partners.services import partner_create

SAVED = "Source saved."
ADDED = "Source added."


@login_required
def partner_list(request):
    form = PartnerFilterForm(request.GET)
    filters = form.values()
    page = partner_list_page(
        user=request.user, **filters, number=request.GET.get("page")
    )
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
        },
    )


@login_required
def partner_detail(request, pk):
    partner = partner_for_user(user=request.user, pk=pk)
    stats = with_referral_stats(Partner.objects.filter(pk=partner.pk)).get()
    referrals = source_referrals(user=request.user, partner=partner)
    return render(
        request,
        "partners/partner_detail.html",
        {
            "partner": partner,
            "stats": stats,
            "referrals": referrals,
        },
    )


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
        partner = form.save(commit=False)
        if partner.email_consent != consent_before:
            partner.email_consent_at = timezone.now()  # when they opted in or out
        partner.save()
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
