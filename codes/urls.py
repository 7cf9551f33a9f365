from django.urls import path

from . import views

app_name = "codes"

urlpatterns = [
    path("", views.CodeListView.as_view(), name="list"),
    path("<int:pk>/", views.CodeDetailView.as_view(), name="detail"),
    path("share/", views.CodeBulkShareView.as_view(), name="bulk_share"),
    path("recall/", views.CodeBulkRecallView.as_view(), name="bulk_recall"),
    path("release/", views.CodeBulkReleaseView.as_view(), name="bulk_release"),
    path("revoke/", views.CodeBulkRevokeView.as_view(), name="bulk_revoke"),
    path("cancel-reservation/", views.CodeBulkCancelReservationView.as_view(), name="bulk_cancel_reservation"),
]
