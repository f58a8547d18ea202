"""Gradient diagnostics: watch gradients vanish or explode, layer by layer.

``GradientMonitor`` records per-layer metrics during ``fit``; ``gradient_report`` measures
one batch without training; ``plot_gradients`` draws either (needs the ``plot`` extra).
"""
from .monitor import GradientMonitor
from .plot import plot_gradients
from .report import GradientReport, gradient_report
from .rows import METRICS

__all__ = ["GradientMonitor", "GradientReport", "gradient_report", "plot_gradients", "METRICS"]
