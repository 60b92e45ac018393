"""ATE preservation audit: does a synthetic copy of the data keep the treatment effect?

``engine.py`` runs :func:`audit` (the repeat loop); ``reference.py`` the real reference and
the comparisons of one synthetic draw; ``subgroups.py`` the subgroup rules;
``synthesizers.py`` the synthesizers by name; ``result.py`` the immutable
:class:`AuditResult`; ``report.py`` its report sections.
"""
from __future__ import annotations

from ..synth.joint import JointSynthesizer
from .engine import audit
from .reference import AuditConfig
from .result import AuditResult
from .synthesizers import DEFAULT_SYNTHESIZERS, SYNTHESIZERS

__all__ = ["audit", "AuditConfig", "AuditResult", "SYNTHESIZERS", "DEFAULT_SYNTHESIZERS", "JointSynthesizer"]
