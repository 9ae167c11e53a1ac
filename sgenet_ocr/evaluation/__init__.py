"""Evaluation of restorers x recognisers: protocols, scoring, sample grids (CLI: sgenet_ocr.evaluate)."""
