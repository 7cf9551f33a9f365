from django.urls import path

from cms.views import PlaceholderView

app_name = "redeem"

urlpatterns = [
    path("", PlaceholderView.as_view(), name="redeem"),
]
