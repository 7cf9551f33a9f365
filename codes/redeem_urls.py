from django.urls import path

from . import redeem_views

app_name = "redeem"

urlpatterns = [
    path("", redeem_views.RedeemView.as_view(), name="redeem"),
    path("done/", redeem_views.RedeemDoneView.as_view(), name="done"),
]
