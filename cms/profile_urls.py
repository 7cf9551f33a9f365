from django.urls import path

from .profile_views import ApiTokenDeleteView, PasswordChangeView, ProfileView

app_name = "profile"

urlpatterns = [
    path("", ProfileView.as_view(), name="detail"),
    path("password/", PasswordChangeView.as_view(), name="password"),
    path("tokens/<int:pk>/delete/", ApiTokenDeleteView.as_view(), name="token_delete"),
]
