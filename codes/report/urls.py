from django.urls import path

from . import views

app_name = "report"

urlpatterns = [
    path("", views.EventListView.as_view(), name="list"),
]
