"""The thank-you pages: acting on one (Today's rows), the settings of each
moment with a live preview, a source's one-click unsubscribe, the Outbox."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateSyntaxError
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.http import safe_next
from partners.models import Partner
from thanks.forms import ThankYouActionForm, ThankYouMomentForm
from thanks.models import (
    ThankYouMoment,
    validate_body_template,
    validate_subject_template,
)
from thanks.selectors import (
    outbox_for_user,
    thank_yous_for_preview,
    thank_yous_for_user,
    with_row_links,
)
from thanks.services import (
    partner_id_from_token,
    partner_opt_out,
    render_thank_you,
    thank_you_mark_done,
    thank_you_send_now,
    thank_you_skip,
)
from thanks.tasks import send_test_email

SAVED = "Changes saved."
TEST_EMAIL_QUEUED = "A test email is queued. A worker sends it within seconds."


def require_admin(user):
    if not user.is_admin:
        raise PermissionDenied("Only admins change how sources are thanked.")


TOUCHPOINT_DONE = {
    "send": "Sending the thank-you now.",
    "done": "Marked as thanked.",
    "skip": "Skipped.",
}


@login_required
@require_POST
def thank_you_action(request, pk):
    """Send now, mark done (called, card sent) or skip (with a reason)."""
    thank_you = get_object_or_404(
        thank_yous_for_user(user=request.user).select_related("referral", "source"),
        pk=pk,
    )
    form = ThankYouActionForm(request.POST)
    error = None
    if form.is_valid():
        action, note = form.cleaned_data["action"], form.cleaned_data["note"]
        try:
            if action == "send":
                thank_you_send_now(thank_you=thank_you, user=request.user)
            elif action == "done":
                thank_you_mark_done(thank_you=thank_you, user=request.user, note=note)
            else:
                thank_you_skip(thank_you=thank_you, user=request.user, reason=note)
        except ValidationError as problem:
            error = problem.messages[0]
    else:
        error = "Choose what to do with this thank-you."
    if request.htmx:
        thank_you.refresh_from_db()
        context = {
            "t": with_row_links([thank_you])[0],
            "error": error,
            "note": request.POST.get("note", ""),
            # The page the row is on, for the form shown again: not this URL.
            "next": safe_next(request, reverse("today")),
            "done_message": None
            if error
            else TOUCHPOINT_DONE[form.cleaned_data["action"]],
        }
        return render(request, "thanks/_thanks_row.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, TOUCHPOINT_DONE[form.cleaned_data["action"]])
    return redirect(safe_next(request, reverse("today")))


@login_required
def thank_you_settings(request):
    require_admin(request.user)
    return render(
        request,
        "thanks/thank_you_settings.html",
        {"moments": ThankYouMoment.objects.select_related("updated_by")},
    )


NO_PREVIEW = (
    "No referral you can see has reached “{moment}” with a source who takes "
    "email. Once one has, the preview shows the email as its source gets it."
)


def _preview_referral(request, config):
    """The admin's pick among the referrals that reached the moment (with a
    source who takes email), else the newest of them; None if there is none."""
    owed = thank_yous_for_preview(user=request.user, moment=config.moment)
    chosen = (
        request.POST.get("preview_referral")
        or request.GET.get("preview_referral")
        or ""
    )
    picked = owed.filter(referral_id=chosen).first() if chosen.isdigit() else None
    if picked:
        return picked.referral
    first = owed.first()
    return first.referral if first else None


@login_required
def thank_you_edit(request, moment):
    require_admin(request.user)
    config = get_object_or_404(ThankYouMoment, moment=moment)
    form = ThankYouMomentForm(request.POST or None, instance=config)
    if request.method == "POST" and "save" in request.POST and form.is_valid():
        config = form.save(commit=False)
        config.updated_by = request.user
        config.save()
        messages.success(request, SAVED)
        return redirect("thank_you_settings")
    return render(
        request,
        "thanks/thank_you_edit.html",
        {
            "form": form,
            "config": config,
            "preview": _preview(request, form, config),
            "preview_choices": [
                owed.referral
                for owed in thank_yous_for_preview(
                    user=request.user, moment=config.moment
                )[:20]
            ],
        },
        status=400 if request.method == "POST" and "save" in request.POST else 200,
    )


def _preview(request, form, config) -> dict:
    """The email as a real referral's source would get it, from the form's text."""
    draft = ThankYouMoment(
        moment=config.moment,
        subject=form.data.get("subject", config.subject)
        if form.is_bound
        else config.subject,
        body=form.data.get("body", config.body) if form.is_bound else config.body,
    )
    referral = _preview_referral(request, config)
    try:
        # The checks a save makes, so the preview says what the save would,
        # with or without a referral to show it with.
        validate_subject_template(draft.subject)
        validate_body_template(draft.body)
        if referral is None:
            return {"error": NO_PREVIEW.format(moment=config.get_moment_display())}
        subject, body = render_thank_you(draft, referral)
    except ValidationError as error:
        return {"error": error.messages[0], "referral": referral}
    except TemplateSyntaxError as error:  # too long with this referral's names
        return {"error": f"This template does not work: {error}", "referral": referral}
    return {"subject": subject, "body": body, "referral": referral}


@login_required
@require_POST
def thank_you_preview(request, moment):
    """htmx: re-render the preview as the admin types."""
    require_admin(request.user)
    config = get_object_or_404(ThankYouMoment, moment=moment)
    form = ThankYouMomentForm(request.POST, instance=config)
    return render(
        request,
        "thanks/_thank_you_preview.html",
        {"preview": _preview(request, form, config)},
    )


# One-click unsubscribe (RFC 8058): mail providers POST to the List-Unsubscribe
# URL with no session and no CSRF token. The signed token is the credential.
@csrf_exempt
def unsubscribe(request, token):
    partner_id = partner_id_from_token(token)
    partner = Partner.objects.filter(pk=partner_id).first() if partner_id else None
    if partner is None:
        raise Http404("This unsubscribe link is not valid.")
    if request.method == "POST":
        partner_opt_out(partner=partner)
        return render(request, "thanks/unsubscribed.html", {"partner": partner})
    if partner.email_consent == Partner.Consent.OPTED_OUT:
        # Nothing to ask: say so, with no button that looks like another step.
        return render(
            request, "thanks/unsubscribed.html", {"partner": partner, "already": True}
        )
    return render(request, "thanks/unsubscribe.html", {"partner": partner})


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
    return render(request, "thanks/outbox.html", {"page": page})


@login_required
def outbox_message(request, pk):
    _require_outbox(request)
    message = get_object_or_404(outbox_for_user(request.user), pk=pk)
    return render(request, "thanks/outbox_message.html", {"message": message})


@login_required
@require_POST
def outbox_test_email(request):
    _require_outbox(request)
    if not request.user.email:
        raise PermissionDenied
    send_test_email.delay_on_commit(request.user.email)
    messages.success(request, TEST_EMAIL_QUEUED)
    return redirect("outbox")
