from django.urls import path

from cms.views import PlaceholderView

app_name = "profile"

urlpatterns = [
    path("", PlaceholderView.as_view(), name="detail"),
]
