"""HTTP routes of the check-ins domain."""

from fastapi import APIRouter

router = APIRouter(tags=["checkins"])
