from django.urls import path

from cms.views import PlaceholderView

app_name = "units"

urlpatterns = [
    path("", PlaceholderView.as_view(), name="list"),
    path("<int:pk>/", PlaceholderView.as_view(), name="detail"),
]
