from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as accounts_views
from accounts.forms import EmailAuthenticationForm
from referrals import views as referral_views

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=EmailAuthenticationForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("accounts/profile/", accounts_views.profile, name="profile"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("partners/", include("partners.urls")),
    path("referrals/", include("referrals.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("refer/<str:token>/", referral_views.card_public, name="card_public"),
    path("", referral_views.today, name="today"),
    path("", include("thanks.urls")),
    path("", include("core.urls")),
]

# A database that does not answer is a 503 with Retry-After (core.errors).
handler500 = "core.errors.server_error"
