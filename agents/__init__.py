"""The assistant: directory, retrieval, prompt, model, parsing, policy, runner."""

import os

# litellm fetches its price list from GitHub at import unless told not to: that
# hangs or fails on an air-gapped server. The bundled copy is used instead.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
