"""Fixes for what mmengine 0.10.7 / mmcv 2.1.0 break on torch >= 2.6 and numpy 2."""
