import re

from django.db.models import Q, QuerySet

from accounts.scoping import users_for_user
from core.models import OutboxMessage


def outbox_for_user(user) -> QuerySet:
    """The Outbox messages a user may read, through the one scoping rule: an
    admin every one; anyone else those sent to, or answered by (Reply-To: a
    thank-you goes to the source and is answered by its rep), a user they
    may see: a rep their own, a manager their team's. Mail to no user of the
    CRM (a partner's unsubscribe confirmation, say) is the admins' to read.

    An address is matched whole, as written or in <...>: bob@ is not in
    jimbob@.
    """
    messages = OutboxMessage.objects.all()
    if user.is_admin:
        return messages
    mine = Q(pk__in=[])
    for email in users_for_user(user).values_list("email", flat=True):
        address = rf"(^|[\s<]){re.escape(email)}($|[\s>])"
        mine |= Q(to__iregex=address) | Q(reply_to__iregex=address)
    return messages.filter(mine)
