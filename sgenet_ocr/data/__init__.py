"""Training and evaluation data: real crops, degradation, synthetic words, TextZoom LMDB."""
