"""The one email helper: every email is three templates under templates/emails/.

`<name>_subject.txt`, `<name>_body.txt` and `<name>_body.html`, rendered with
the same context into one message with a plain text and an HTML part.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context, Engine
from django.template.loader import render_to_string

# Admin-editable snippets (thank-you subjects and bodies) render here: plain
# text, no template libraries, no includes, nothing from disk.
SNIPPET_ENGINE = Engine(autoescape=False, libraries={}, loaders=[])


def render_snippet(source: str, context: dict) -> str:
    """Render an admin's template text; raises TemplateSyntaxError if broken."""
    return SNIPPET_ENGINE.from_string(source).render(Context(context)).strip()


def build_email(
    name: str,
    context: dict,
    *,
    to: list[str],
    from_email: str | None = None,
    reply_to: list[str] | None = None,
    headers: dict | None = None,
) -> EmailMultiAlternatives:
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}_body.txt", context)
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
