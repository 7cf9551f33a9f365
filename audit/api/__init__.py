"""REST API (v1) of this app: serializers, filters, views and URLs, NetBox style."""
