"""Calendar days in the users' time zone (canalco:timezone, passed as TIMEZONE), and the S3 day
partitions ``year=YYYY/month=MM/day=DD/`` that the audit log, the backend's exports and the
reports share. A day is the users' day: an event at 23:30 in Bogotá belongs to that day, not to
the next UTC one.
"""

import os
import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

_PARTITION = re.compile(r"year=(\d{4})/month=(\d{2})/day=(\d{2})/")


def zone():
    """The users' time zone (ZoneInfo caches each zone it loads)."""
    return ZoneInfo(os.environ.get("TIMEZONE", "America/Bogota"))


def instant(text):
    """An ISO-8601 date-time as an aware UTC datetime; one without an offset is the users' local
    time (as the reports show it). Raises ValueError when text is not a date-time."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone())
    return moment.astimezone(timezone.utc)


def local_day(moment):
    """The users' calendar day of an aware datetime."""
    return moment.astimezone(zone()).date()


def partition(day):
    return f"year={day:%Y}/month={day:%m}/day={day:%d}/"


def partition_day(relative_key):
    """The day of a key that starts with a partition, or None."""
    match = _PARTITION.match(relative_key)
    if match is None:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


def event_order(event):
    """Sort key of audit events: when they happened, then their id; unparseable times last."""
    try:
        return (instant(event.get("occurred_at", "")), str(event.get("id")))
    except (TypeError, ValueError):
        return (datetime.max.replace(tzinfo=timezone.utc), str(event.get("id")))
