"""Shared bases of the window: generic list and bulk-action views, tables, filters, exports."""
