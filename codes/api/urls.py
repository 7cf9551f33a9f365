from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import BatchViewSet, CodeViewSet, RedeemView

router = SimpleRouter()
router.register("codes", CodeViewSet, basename="code")
router.register("batches", BatchViewSet, basename="batch")

urlpatterns = [
    path("redeem/", RedeemView.as_view(), name="redeem"),
    *router.urls,
]
