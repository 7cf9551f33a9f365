from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.generic import RedirectView

from codes.dashboard_views import DashboardView

from .account_views import SignInView

urlpatterns = [
    path("", DashboardView.as_view(), name="dashboard"),
    path("login/", SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("codes/send/", include("codes.mail_urls")),
    path("codes/", include("codes.urls")),
    path("batches/", include("codes.batch_urls")),
    path("units/", include("units.urls")),
    path("report/", include("codes.report.urls")),
    path("notices/", include("codes.notice_urls")),
    path("accounts/", include("cms.account_urls")),
    path("redeem/", include("codes.redeem_urls")),
    path("profile/", include("cms.profile_urls")),
    path("api/", include("cms.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The admin's own password form would set a password past the service (no audit entry, the
    # API tokens kept): the profile page's form is the one place a user changes its own.
    path("admin/password_change/", login_required(RedirectView.as_view(pattern_name="profile:password"))),
    path("admin/", admin.site.urls),
]

if settings.KEYLINE_BENCH_ROUTES:
    urlpatterns.append(path("bench/", include("bench.urls")))
