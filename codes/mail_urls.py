from django.urls import path

from . import mail_views

app_name = "mail"

urlpatterns = [
    path("", mail_views.CodeSendView.as_view(), name="send"),
]
