from django.urls import path

from cms.views import PlaceholderView

app_name = "report"

urlpatterns = [
    path("", PlaceholderView.as_view(), name="list"),
]
