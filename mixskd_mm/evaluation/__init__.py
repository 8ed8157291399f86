"""Evaluation metrics. Imported on demand (``custom_imports``), not by
``import mixskd_mm``, since they register into mmseg, which pretraining
configs need not import."""
