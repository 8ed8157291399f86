"""Mixed precision on CPU (see --amp in tools/train.py)."""
