"""rag: offline, cited question answering and neutral summaries over news articles."""

__version__ = "0.1.0"
