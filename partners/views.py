from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from partners.selectors import partner_for_user, partner_list_for_user
from referrals.selectors import referrals_for_user


@login_required
def partner_list(request):
    page = Paginator(partner_list_for_user(user=request.user), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "partners/partner_list.html", {"page": page})


@login_required
def partner_detail(request, pk):
    partner = partner_for_user(user=request.user, pk=pk)
    # The source's referrals, through the same scoping rule as everything else.
    referrals = referrals_for_user(user=request.user).filter(source=partner)
    return render(
        request,
        "partners/partner_detail.html",
        {"partner": partner, "referrals": referrals},
    )
