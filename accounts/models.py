import zoneinfo

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
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

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


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
