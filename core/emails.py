"""The one email helper: every email is three templates under templates/emails/.

`<name>_subject.txt`, `<name>_body.txt` and `<name>_body.html`, rendered with
the same context into one message with a plain text and an HTML part.

The subject and the text part carry what people typed exactly as typed
("Tom O'Brien", "Smith & Jones"): they are rendered with autoescape off. Only
the HTML part is escaped, once, by the template engine. Text that admins
write (thank-you templates) renders through `core.snippets`.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template, render_to_string


def render_text(template_name: str, context: dict) -> str:
    """A plain-text template (a subject, a text part): values as typed."""
    template = get_template(template_name).template
    return template.render(Context(context, autoescape=False))


def one_line(text: str) -> str:
    """A header value on one line: line breaks and runs of spaces become one space."""
    return " ".join(text.split())


def build_email(
    name: str,
    context: dict,
    *,
    to: list[str],
    from_email: str | None = None,
    reply_to: list[str] | None = None,
    headers: dict | None = None,
) -> EmailMultiAlternatives:
    subject = one_line(render_text(f"emails/{name}_subject.txt", context))
    text = render_text(f"emails/{name}_body.txt", context)
    html = render_to_string(f"emails/{name}_body.html", context)
    message = EmailMultiAlternatives(
        subject,
        text,
        from_email or settings.DEFAULT_FROM_EMAIL,
        to,
        reply_to=reply_to,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message
