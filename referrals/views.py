from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from referrals.selectors import pipeline_summary, referral_for_user, referrals_for_user


@login_required
def referral_list(request):
    page = Paginator(referrals_for_user(user=request.user), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "referrals/referral_list.html", {"page": page})


@login_required
def referral_detail(request, pk):
    referral = referral_for_user(user=request.user, pk=pk)
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "referral": referral,
            "activities": referral.activities.select_related("author"),
            "stage_changes": referral.stage_changes.select_related(
                "from_stage", "to_stage", "by"
            ),
        },
    )


@login_required
def referral_new(request):
    return render(request, "referrals/referral_new.html")


@login_required
def board(request):
    return render(
        request,
        "referrals/board.html",
        {"summary": pipeline_summary(user=request.user)},
    )


@login_required
def dashboard(request):
    if not (request.user.is_manager or request.user.is_admin):
        raise PermissionDenied("The dashboard is for managers and admins.")
    summary = pipeline_summary(user=request.user)
    return render(
        request,
        "referrals/dashboard.html",
        {
            "summary": summary,
            "forecast": sum(row["weighted"] for row in summary),
        },
    )
