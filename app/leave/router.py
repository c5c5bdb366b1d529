"""HTTP routes of the leave domain."""

from fastapi import APIRouter

router = APIRouter(tags=["leave"])
