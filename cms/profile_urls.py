from django.urls import path

from .profile_views import ApiTokenDeleteView, ProfileView

app_name = "profile"

urlpatterns = [
    path("", ProfileView.as_view(), name="detail"),
    path("tokens/<int:pk>/delete/", ApiTokenDeleteView.as_view(), name="token_delete"),
]
