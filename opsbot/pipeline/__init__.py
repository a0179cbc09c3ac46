from opsbot.pipeline.pipeline import Pipeline

__all__ = ["Pipeline"]
