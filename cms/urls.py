from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views
from .account_forms import ActiveAccountAuthenticationForm

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
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
    path("report/", include("audit.urls")),
    path("notices/", include("codes.notice_urls")),
    path("accounts/", include("cms.account_urls")),
    path("redeem/", include("codes.redeem_urls")),
    path("profile/", include("cms.profile_urls")),
    path("api/", include("cms.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

if settings.KEYLINE_BENCH_ROUTES:
    from .bench_views import bare_json

    urlpatterns.append(path("bench/bare/", bare_json, name="bench_bare"))
