"""The change engine's models live with the engine; the decisions built on it are imported below."""

from .models_decisions import *  # noqa: E402,F401,F403
