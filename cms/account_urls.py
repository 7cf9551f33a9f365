from django.urls import path

from . import account_views as views

app_name = "accounts"

urlpatterns = [
    path("", views.AccountTreeView.as_view(), name="list"),
    path("new/", views.AccountCreateView.as_view(), name="create"),
    path("<int:pk>/edit/", views.AccountEditView.as_view(), name="edit"),
    path("<int:pk>/move/", views.AccountMoveView.as_view(), name="move"),
    path("<int:pk>/disable/", views.AccountActiveView.as_view(active=False), name="disable"),
    path("<int:pk>/enable/", views.AccountActiveView.as_view(active=True), name="enable"),
    path("stock/", views.StockView.as_view(), name="stock"),
    path("users/", views.UserListView.as_view(), name="users"),
    path("users/new/", views.UserCreateView.as_view(), name="user_create"),
    path("users/<int:pk>/", views.UserEditView.as_view(), name="user_edit"),
    path("users/<int:pk>/password/", views.UserPasswordView.as_view(), name="user_password"),
    path("users/disable/", views.UsersDisableView.as_view(), name="users_disable"),
    path("users/enable/", views.UsersEnableView.as_view(), name="users_enable"),
    path("invitation/<uidb64>/<token>/", views.InvitationAcceptView.as_view(), name="invitation"),
]
