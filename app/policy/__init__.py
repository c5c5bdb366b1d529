"""The rules in force, served to apps (`GET /policy`). The rules themselves are
app.core.policy; this package is their route, which needs a signed-in caller (app.auth), so it
lives above app.core rather than in it."""
