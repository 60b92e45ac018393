"""Backend of :class:`CTGANGenerator` and :class:`TVAEGenerator`.

Everything that touches the optional ``ctgan`` and ``torch`` packages lives here and
imports them lazily, so ``causalsynth`` works without them.  Seeding goes through ctgan's
own ``set_random_state``: it keeps a private numpy ``RandomState`` and ``torch.Generator``
and swaps them in around ``fit`` and ``sample`` (restoring the global states afterwards).
"""
from __future__ import annotations

import inspect
import numbers
from typing import Any

import pandas as pd

from ..errors import SpecError

__all__ = ["load_ctgan", "check_params", "resolve_device", "fit_model", "sample_model"]

INSTALL_HINT = 'pip install "causalsynth[deep]"'
# Arguments of ctgan's constructors that the wrappers set themselves.
_RESERVED = ("epochs", "batch_size", "verbose", "enable_gpu", "cuda")


def load_ctgan() -> Any:
    """Import and return the ``ctgan`` module, or explain how to install it."""
    try:
        import ctgan
    except ImportError as exc:
        raise ImportError(
            "CTGANGenerator and TVAEGenerator need the optional packages 'ctgan' and 'torch', "
            f"which are not installed; install them with: {INSTALL_HINT}"
        ) from exc
    return ctgan


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_params(family: str, owner: str, *, epochs: Any, batch_size: Any, progress: Any,
                 model_kwargs: dict[str, Any]) -> type:
    """Validate the wrapper's parameters and return the ctgan class to build."""
    if not _is_int(epochs) or epochs < 1:
        raise SpecError(f"{owner}: epochs must be a positive integer; got {epochs!r}. "
                        "Pass for example epochs=300.")
    if not _is_int(batch_size) or batch_size < 2:
        raise SpecError(f"{owner}: batch_size must be an integer >= 2; got {batch_size!r}. "
                        "Pass for example batch_size=500.")
    if family == "ctgan":
        pac = model_kwargs.get("pac", 10)
        if not _is_int(pac) or pac < 1 or batch_size % 2 or batch_size % pac:
            raise SpecError(f"{owner}: batch_size must be even and a multiple of pac; got "
                            f"batch_size={batch_size!r}, pac={pac!r}. Use for example "
                            "batch_size=500 with pac=10.")
    if not isinstance(progress, bool):
        raise SpecError(f"{owner}: progress must be True or False; got {progress!r}.")
    reserved = sorted(set(model_kwargs) & set(_RESERVED))
    if reserved:
        raise SpecError(f"{owner}: {reserved} are set by the wrapper; got them as extra keyword "
                        "arguments. Use epochs=, batch_size=, progress= and device= instead.")
    ctgan = load_ctgan()
    model_class = ctgan.CTGAN if family == "ctgan" else ctgan.TVAE
    accepted = set(inspect.signature(model_class.__init__).parameters) - {"self", *_RESERVED}
    unknown = sorted(set(model_kwargs) - accepted)
    if unknown:
        raise SpecError(f"{owner}: unknown keyword arguments {unknown} for ctgan."
                        f"{model_class.__name__}; accepted: {sorted(accepted)}.")
    return model_class


def resolve_device(device: Any) -> Any:
    """Turn ``device`` ("auto", "cpu", "cuda", "cuda:N" or torch.device) into a torch.device."""
    load_ctgan()
    import torch

    if isinstance(device, str) and device.strip().lower() == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise SpecError(f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device; "
                        f"got {device!r}.") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise SpecError(f"device={device!r} asks for CUDA but torch.cuda.is_available() is "
                        "False. Use device='auto' or device='cpu'.")
    return resolved


def fit_model(model_class: type, data: pd.DataFrame, discrete: list[str], *, seed: int,
              epochs: int, batch_size: int, progress: bool, device: Any,
              model_kwargs: dict[str, Any]) -> Any:
    """Build a ctgan synthesizer on ``device`` and train it on ``data`` with ``seed``."""
    model = model_class(epochs=epochs, batch_size=batch_size, verbose=progress,
                        enable_gpu=device.type != "cpu", **model_kwargs)
    if hasattr(model, "_generator"):  # CTGAN: set_device works before fit
        model.set_device(device)
    else:  # TVAE.set_device needs a trained decoder; fit reads the device from _device
        model._device = device
    model.set_random_state(seed)
    model.fit(data, discrete_columns=list(discrete))
    return model


def sample_model(model: Any, n: int, seed: int) -> pd.DataFrame:
    """Draw ``n`` rows from a trained ctgan synthesizer with ``seed``.

    CTGAN samples with its generator in training mode, so batch-norm running statistics
    would drift with every call; they are restored so sampling leaves the model unchanged.
    """
    import torch

    network = getattr(model, "_generator", None)
    saved = None if network is None else {k: v.clone() for k, v in network.state_dict().items()}
    model.set_random_state(seed)
    try:
        with torch.no_grad():
            return model.sample(n)
    finally:
        if saved is not None:
            network.load_state_dict(saved)
