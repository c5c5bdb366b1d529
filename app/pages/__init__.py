"""The service's own pages outside /api/v1: the member's offline-first `/app`, the household's
countersign page `/v` and `/v/{token}`, and the villagers' survey page `/s/{code}`."""
