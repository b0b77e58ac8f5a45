import re

from django.db.models import Q, QuerySet

from accounts.scoping import users_for_user
from core.models import OutboxMessage


def outbox_for_user(user) -> QuerySet:
    """The Outbox messages a user may read: an admin every one; anyone else
    the mail sent to them, and the mail answered (Reply-To) by a user they may
    see through the one scoping rule: a thank-you goes to the source and is
    answered by its rep, so a rep reads their own, a manager their team's.
    Mail to a teammate is theirs alone: a password reset link read by
    someone else would hand over the account. Mail to no user of the CRM (a
    partner's unsubscribe confirmation, say) is the admins' to read.

    An address is matched whole, as written or in <...>: bob@ is not in
    jimbob@.
    """
    messages = OutboxMessage.objects.all()
    if user.is_admin:
        return messages
    mine = Q(to__iregex=_address(user.email))
    for email in users_for_user(user).values_list("email", flat=True):
        mine |= Q(reply_to__iregex=_address(email))
    return messages.filter(mine)


def _address(email: str) -> str:
    """A pattern matching `email` as a whole address in a list of them."""
    return rf"(^|[\s<]){re.escape(email)}($|[\s>])"
