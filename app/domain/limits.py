"""Size limits shared by every entry point, the services and the assistant."""

from __future__ import annotations

# A chat message, an integration event's text and the assistant's reply.
MAX_MESSAGE_CHARS = 4000
MAX_CLIENT_ID_CHARS = 100
# Free text fields of tasks, service logs, notification bodies and memories.
MAX_TEXT_CHARS = 2000
MAX_TITLE_CHARS = 200
