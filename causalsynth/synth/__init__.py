"""Generators of synthetic data: covariates first, then treatment and outcome models."""
