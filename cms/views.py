from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView


class DashboardView(LoginRequiredMixin, TemplateView):
    template_name = "cms/dashboard.html"


class PlaceholderView(LoginRequiredMixin, TemplateView):
    """Temporary page for a section whose issue is still open; replaced by the real view."""

    template_name = "cms/dashboard.html"
