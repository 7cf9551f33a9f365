from django.urls import path

from . import notice_views as views

app_name = "notices"

urlpatterns = [
    path("", views.NoticeListView.as_view(), name="list"),
    path("new/", views.NoticeCreateView.as_view(), name="create"),
    path("<int:pk>/", views.NoticeUpdateView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.NoticeDeleteView.as_view(), name="delete"),
]
