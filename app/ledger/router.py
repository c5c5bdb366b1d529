"""HTTP routes of the ledger domain."""

from fastapi import APIRouter

router = APIRouter(tags=["ledger"])
