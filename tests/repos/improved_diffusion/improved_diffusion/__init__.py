"""Codebase for "Improved Denoising Diffusion Probabilistic Models" (in its shape)."""
