from django.urls import path

from . import batch_views as views

app_name = "batches"

urlpatterns = [
    path("", views.BatchListView.as_view(), name="list"),
    path("generate/", views.BatchGenerateView.as_view(), name="generate"),
    path("<int:pk>/", views.BatchDetailView.as_view(), name="detail"),
    path("<int:pk>/progress/", views.BatchProgressView.as_view(), name="progress"),
    path("<int:pk>/codes.csv", views.BatchDownloadView.as_view(), name="download"),
]
