from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from codes.dashboard_views import DashboardView

from .account_forms import ActiveAccountAuthenticationForm

urlpatterns = [
    path("", DashboardView.as_view(), name="dashboard"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=ActiveAccountAuthenticationForm),
        name="login",
    ),
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
    path("admin/", admin.site.urls),
]

if settings.KEYLINE_BENCH_ROUTES:
    urlpatterns.append(path("bench/", include("bench.urls")))
