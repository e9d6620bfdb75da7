"""Asynchronous batch jobs (bulk upserts, exports) that survive a restart: ``JobService``."""

from jobs.registry import JobRecord
from jobs.service import JobService

__all__ = ["JobRecord", "JobService"]
