"""Authentication: access tokens (JWT), refresh tokens, API keys, rate limits.

Entry points (API routes, Reflex states) call app.auth.service; nothing else here
opens a session on its own.
"""
