from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.selectors import outbox_for_user
from core.tasks import send_test_email
from referrals.selectors import referrals_needing_action

TEST_EMAIL_QUEUED = "A test email is queued. A worker sends it within seconds."


@login_required
def today(request):
    return render(
        request,
        "core/today.html",
        referrals_needing_action(
            user=request.user, thanks_after=_id(request.GET.get("after"))
        ),
    )


def _id(value) -> int | None:
    """A row id from the query string; None when it is not one."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None


def _require_outbox(request):
    # The Outbox exists only while the development email backend keeps mail
    # (a laptop or a demo); in production mail goes out over SMTP instead.
    if settings.EMAIL_BACKEND != settings.OUTBOX_BACKEND:
        raise Http404("The Outbox is only kept by the development email backend.")


@login_required
def outbox(request):
    _require_outbox(request)
    messages_seen = outbox_for_user(request.user).defer("raw", "headers")
    page = Paginator(messages_seen, 25).get_page(request.GET.get("page"))
    return render(request, "core/outbox.html", {"page": page})


@login_required
def outbox_message(request, pk):
    _require_outbox(request)
    message = get_object_or_404(outbox_for_user(request.user), pk=pk)
    return render(request, "core/outbox_message.html", {"message": message})


@login_required
@require_POST
def outbox_test_email(request):
    _require_outbox(request)
    if not request.user.email:
        raise PermissionDenied
    send_test_email.delay_on_commit(request.user.email)
    messages.success(request, TEST_EMAIL_QUEUED)
    return redirect("outbox")
