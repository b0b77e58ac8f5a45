import secrets
import zoneinfo

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.functional import cached_property

from core.validators import validate_one_line

# Role names are group names: permissions live on the groups (see the
# accounts 0002 migration), visibility lives in accounts.scoping.
REP, MANAGER, ADMIN = "Rep", "Manager", "Admin"
# The roles a group gives, strongest first; no such group: a rep.
GROUP_ROLES = (ADMIN, MANAGER)
ROLES = (REP, MANAGER, ADMIN)
# A signature closes every thank-you: a few lines, not a letter.
SIGNATURE_MAX = 1000
# A team's "How to refer us" link (/refer/<token>/): 32 random bytes, 43
# characters in the URL, never guessed.
CARD_TOKEN_BYTES = 32


def new_card_token() -> str:
    return secrets.token_urlsafe(CARD_TOKEN_BYTES)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name, e.g. Europe/Berlin.")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("Users log in by email: an email is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        # Emails are stored lower-case, so "Rep@Example.com" logs in too.
        return self.get(email__iexact=username)


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    manager = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    # The secret in the team's public "How to refer us" link: anyone who has
    # the link sees the team's card, without logging in. Renewing it (a
    # manager's or an admin's button on the card) revokes the old link.
    card_token = models.CharField(
        max_length=64, unique=True, default=new_card_token, editable=False
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def card_path(self) -> str:
        """The path of the team's public card (prefix settings.SITE_URL in
        an email; request.build_absolute_uri on a page)."""
        return reverse("card_public", args=[self.card_token])

    def card_token_renew(self) -> None:
        """A new public link for the team's card; the old one stops working."""
        self.card_token = new_card_token()
        self.save(update_fields=["card_token"])


class User(AbstractUser):
    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    # The name thank-yous are sent from (the From header): one line.
    display_name = models.CharField(
        max_length=150, blank=True, validators=[validate_one_line]
    )
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone]
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    signature = models.TextField(
        blank=True,
        max_length=SIGNATURE_MAX,
        help_text="Closes the thank-you emails sent for you.",
    )
    # The day (in the user's time zone) the last daily digest was handled;
    # claimed with a conditional update so two schedulers send it once.
    digest_sent_on = models.DateField(null=True, blank=True, editable=False)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        ordering = ["display_name", "email"]

    def __str__(self):
        return self.display_name or self.email

    def get_full_name(self):
        return self.display_name or self.email

    def get_short_name(self):
        return (self.display_name or self.email).split()[0]

    @cached_property
    def role(self) -> str:
        """The strongest of the user's roles; a superuser is always Admin."""
        if self.is_superuser:
            return ADMIN
        names = set(self.groups.values_list("name", flat=True))
        for role in GROUP_ROLES:
            if role in names:
                return role
        return REP

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == MANAGER
