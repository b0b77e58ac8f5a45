"""Celery tasks of the dashboard: thin wrappers around plain functions."""

from celery import shared_task

from dashboard.snapshots import snapshots_warm


@shared_task(soft_time_limit=120, time_limit=150)
def dashboard_snapshots_warm_task() -> int:
    return snapshots_warm()
