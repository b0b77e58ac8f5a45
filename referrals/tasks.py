"""Celery tasks of the pipeline: thin wrappers around plain functions."""

from celery import shared_task

from referrals.digests import digests_send_due


@shared_task(soft_time_limit=600, time_limit=660)
def digests_send_task() -> int:
    return digests_send_due()
