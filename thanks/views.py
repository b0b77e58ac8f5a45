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

from accounts.scoping import get_for_user_or_404
from core.forms import saved
from core.http import safe_next
from partners.asking import customer_asking
from partners.forms import CommitmentForm
from partners.models import Ask, Commitment, Partner
from partners.selectors import partner_for_user
from thanks.forms import (
    AskForm,
    AskTemplateForm,
    ThankYouActionForm,
    ThankYouMomentForm,
)
from thanks.models import (
    AskTemplate,
    ThankYouMoment,
    validate_ask_body,
    validate_ask_subject,
    validate_body_template,
    validate_subject_template,
)
from thanks.selectors import (
    ask_emails_for_user,
    ask_preview_customers,
    outbox_for_user,
    thank_yous_for_preview,
    thank_yous_for_user,
    with_row_links,
)
from thanks.services import (
    ask_email_context,
    ask_email_retry,
    ask_record,
    ask_team,
    commitment_change,
    commitment_record,
    partner_id_from_ask_token,
    partner_id_from_token,
    partner_opt_out,
    partner_opt_out_of_asks,
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


# -- Asking a customer for referrals -------------------------------------------

ASKED = {
    Ask.Channel.EMAIL: "Asked {name} by email: it goes out within seconds, as you.",
    Ask.Channel.IN_PERSON: "Recorded: you asked {name} in person.",
    Ask.Channel.PHONE: "Recorded: you asked {name} by phone.",
}
RETRYING = "Sending the ask email again."


def _customer_for_user(request, pk) -> Partner:
    """A customer source the user may see; 404 for any other source (no page
    offers an ask of a partner, a colleague or a prospect)."""
    partner = partner_for_user(user=request.user, pk=pk)
    if partner.kind != Partner.Kind.CUSTOMER:
        raise Http404("Only customers are asked for referrals.")
    return partner


def _ask_preview(template: AskTemplate, *, partner: Partner, rep) -> dict:
    """The ask email as `partner` would get it from `rep`, or why not."""
    try:
        validate_ask_subject(template.subject)
        validate_ask_body(template.body)
        return ask_email_context(template, partner=partner, rep=rep)
    except ValidationError as error:
        return {"error": error.messages[0]}
    except TemplateSyntaxError as error:  # too long with these names
        return {"error": f"This template does not work: {error}"}


@login_required
def ask_new(request, pk):
    """Ask a customer for referrals: why they are suggested (or why not),
    the email as they would get it, and the choice to send it or record an
    ask made in person or by phone."""
    partner = _customer_for_user(request, pk)
    form = AskForm(request.POST or None, can_email=partner.can_email)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid() and not partner.do_not_ask:
            try:
                ask_record(
                    partner=partner,
                    user=request.user,
                    channel=form.cleaned_data["channel"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                form.add_error(None, error)  # a field's error lands by its field
            else:
                channel = form.cleaned_data["channel"]
                messages.success(request, ASKED[channel].format(name=partner.name))
                return redirect(partner)
    context = {
        "partner": partner,
        "form": form,
        "asking": customer_asking(partner=partner),
        "preview": _ask_preview(
            AskTemplate.current(), partner=partner, rep=request.user
        )
        if partner.can_email
        else None,
        "team": ask_team(rep=request.user, partner=partner),
    }
    return render(request, "thanks/ask_new.html", context, status=status)


@login_required
@require_POST
def ask_email_retry_view(request, pk):
    """Today's Retry on an ask email that failed."""
    ask_email = get_object_or_404(ask_emails_for_user(user=request.user), pk=pk)
    try:
        ask_email_retry(ask_email=ask_email)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, RETRYING)
    return redirect(safe_next(request, reverse("today")))


def _ask_preview_customer(request, customers):
    chosen = (
        request.POST.get("preview_customer")
        or request.GET.get("preview_customer")
        or ""
    )
    picked = customers.filter(pk=chosen).first() if chosen.isdigit() else None
    return picked or customers.first()


NO_ASK_PREVIEW = (
    "None of the customers you can see takes email. Once one does, the "
    "preview shows the ask as they would get it."
)


def _ask_settings_preview(request, form) -> dict:
    """The ask email as a real customer would get it, from the form's text."""
    current = AskTemplate.current()
    draft = AskTemplate(
        subject=form.data.get("subject", current.subject)
        if form.is_bound
        else current.subject,
        body=form.data.get("body", current.body) if form.is_bound else current.body,
    )
    customer = _ask_preview_customer(request, ask_preview_customers(user=request.user))
    if customer is None:
        problem = _ask_preview(
            draft, partner=Partner(name="A customer"), rep=request.user
        )
        return {"error": problem.get("error") or NO_ASK_PREVIEW}
    preview = _ask_preview(draft, partner=customer, rep=customer.owner)
    return {**preview, "customer": customer}


@login_required
def ask_settings(request):
    """The ask email's text (admins), with a live preview."""
    require_admin(request.user)
    template = AskTemplate.current()
    form = AskTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and "save" in request.POST and form.is_valid():
        template = form.save(commit=False)
        template.updated_by = request.user
        template.save()
        messages.success(request, SAVED)
        return redirect("thank_you_settings")
    return render(
        request,
        "thanks/ask_settings.html",
        {
            "form": form,
            "preview": _ask_settings_preview(request, form),
            "preview_choices": ask_preview_customers(user=request.user)[:20],
        },
        status=400 if request.method == "POST" and "save" in request.POST else 200,
    )


@login_required
@require_POST
def ask_settings_preview(request):
    """htmx: re-render the ask email's preview as the admin types."""
    require_admin(request.user)
    form = AskTemplateForm(request.POST, instance=AskTemplate.current())
    return render(
        request,
        "thanks/_ask_preview.html",
        {"preview": _ask_settings_preview(request, form)},
    )


# One-click unsubscribe (RFC 8058) from an ask email: as `unsubscribe`, and
# it also stops every ask for referrals. The signed token is the credential.
@csrf_exempt
def ask_unsubscribe(request, token):
    partner_id = partner_id_from_ask_token(token)
    partner = Partner.objects.filter(pk=partner_id).first() if partner_id else None
    if partner is None:
        raise Http404("This unsubscribe link is not valid.")
    if request.method == "POST":
        partner_opt_out_of_asks(partner=partner)
        return render(request, "thanks/ask_unsubscribed.html", {"partner": partner})
    if partner.email_consent == Partner.Consent.OPTED_OUT and partner.do_not_ask:
        return render(
            request,
            "thanks/ask_unsubscribed.html",
            {"partner": partner, "already": True},
        )
    return render(request, "thanks/ask_unsubscribe.html", {"partner": partner})


# -- A partnership plan's commitments (partners.Commitment), reminded by email --

COMMITMENT_SAVED = "Commitment saved: {what}."


def _commitment_page(request, partner, form, commitment=None, status=200):
    return render(
        request,
        "thanks/commitment_form.html",
        {"partner": partner, "form": form, "commitment": commitment},
        status=status,
    )


@login_required
def commitment_new(request, pk):
    """Add a commitment to a source's partnership plan; its owner is
    reminded by email on the due date."""
    partner = partner_for_user(user=request.user, pk=pk)
    form = CommitmentForm(request.POST or None, user=request.user, partner=partner)
    if request.method == "POST":
        if saved(form, lambda data: commitment_record(partner=partner, **data)):
            what = form.cleaned_data["what"].strip()
            messages.success(request, COMMITMENT_SAVED.format(what=what))
            return redirect(partner)
        return _commitment_page(request, partner, form, status=400)
    return _commitment_page(request, partner, form)


@login_required
def commitment_edit(request, pk):
    """Revise a commitment: mark it done or dropped, move its date."""
    commitment = get_for_user_or_404(
        Commitment.objects.select_related("partner__owner", "owner"),
        request.user,
        pk,
        owner_field="partner__owner",
    )
    partner = commitment.partner
    form = CommitmentForm(
        request.POST or None, instance=commitment, user=request.user, partner=partner
    )
    if request.method == "POST":
        if saved(form, lambda data: commitment_change(commitment=commitment, **data)):
            messages.success(request, COMMITMENT_SAVED.format(what=commitment.what))
            return redirect(partner)
        return _commitment_page(request, partner, form, commitment, status=400)
    return _commitment_page(request, partner, form, commitment)
