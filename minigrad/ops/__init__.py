"""Differentiable ops by family. Each file: kernels, then Function classes, then wrappers."""
