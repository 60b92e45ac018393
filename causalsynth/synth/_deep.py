"""Backend of :class:`CTGANGenerator` and :class:`TVAEGenerator`.

Everything that touches the optional ``ctgan`` and ``torch`` packages lives here and
imports them lazily, so ``causalsynth`` works without them.  Seeding goes through ctgan's
own ``set_random_state``: it keeps a private numpy ``RandomState`` and ``torch.Generator``
and swaps them in around ``fit`` and ``sample`` (restoring the global states afterwards).
"""
from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pandas as pd

from .._checks import is_int
from .._random import RandomState, as_seed_sequence, seed_int
from ..errors import SpecError

__all__ = ["DOC", "fit_generator", "sample_generator", "load_ctgan", "check_params",
           "resolve_device", "fit_model", "sample_model"]

INSTALL_HINT = 'pip install "causalsynth[deep]"'
# Arguments of ctgan's constructors that the wrappers set themselves.
_RESERVED = ("epochs", "batch_size", "verbose", "enable_gpu", "cuda")
_NUMERIC = ("continuous", "integer")
# Integer columns with at most this many distinct values are given to ctgan as discrete.
DISCRETE_INTEGER_LEVELS = 10


def fit_generator(gen: Any, frame: pd.DataFrame, random_state: RandomState) -> Any:
    """``fit`` of CTGANGenerator/TVAEGenerator: encode ``frame``, train, set attributes."""
    model_class = check_params(gen._family, type(gen).__name__, epochs=gen.epochs,
                               batch_size=gen.batch_size, progress=gen.progress,
                               model_kwargs=gen.model_kwargs)
    device = resolve_device(gen.device)
    arrays = gen._start_fit(frame)
    data, discrete, levels = {}, [], []
    for j, (col, values) in enumerate(zip(gen._schema_, arrays)):
        key, level = f"c{j}", None  # plain string names for ctgan/rdt
        if col.kind == "integer" and len(np.unique(values)) <= DISCRETE_INTEGER_LEVELS:
            level, values = np.unique(values, return_inverse=True)
        if col.kind not in _NUMERIC or level is not None:
            discrete.append(key)
        data[key] = values
        levels.append(level)
    gen._levels_ = levels
    gen.discrete_columns_ = [col.name for col, key in zip(gen._schema_, data) if key in discrete]
    gen.device_ = device
    gen.model_ = fit_model(model_class, pd.DataFrame(data), discrete,
                           seed=seed_int(as_seed_sequence(random_state)), epochs=gen.epochs,
                           batch_size=gen.batch_size, progress=gen.progress, device=device,
                           model_kwargs=gen.model_kwargs)
    return gen


def sample_generator(gen: Any, n: Any, random_state: RandomState) -> pd.DataFrame:
    """``sample`` of CTGANGenerator/TVAEGenerator: draw, then decode codes and levels."""
    n = gen._check_sample(n)
    raw = sample_model(gen.model_, n, seed_int(as_seed_sequence(random_state)))
    arrays = []
    for j, (col, level) in enumerate(zip(gen._schema_, gen._levels_)):
        values = pd.to_numeric(raw.iloc[:, j]).to_numpy(dtype=np.float64)
        if col.kind not in _NUMERIC or level is not None:
            size = len(level) if level is not None else len(col.categories)
            values = np.clip(np.rint(values), 0, size - 1).astype(np.intp)
            if level is not None:
                values = level[values]
        arrays.append(values)
    return gen._assemble(arrays)


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


def check_params(family: str, owner: str, *, epochs: Any, batch_size: Any, progress: Any,
                 model_kwargs: dict[str, Any]) -> type:
    """Validate the wrapper's parameters and return the ctgan class to build."""
    if not is_int(epochs) or epochs < 1:
        raise SpecError(f"{owner}: epochs must be a positive integer; got {epochs!r}. "
                        "Pass for example epochs=300.")
    if not is_int(batch_size) or batch_size < 2:
        raise SpecError(f"{owner}: batch_size must be an integer >= 2; got {batch_size!r}. "
                        "Pass for example batch_size=500.")
    if family == "ctgan":
        pac = model_kwargs.get("pac", 10)
        if not is_int(pac) or pac < 1 or batch_size % 2 or batch_size % pac:
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


DOC = """{summary}

    Discrete columns given to the network: categorical, binary, and integer columns with at
    most 10 distinct values (these are then sampled only among their observed values); other
    integer columns are modelled as continuous, rounded and clipped.  Outputs are clipped to
    the observed ``[min, max]`` and cast back to the fitted dtypes.  Needs the optional
    ``ctgan`` package (``pip install "causalsynth[deep]"``), imported when ``fit`` runs.

    Seeding: ``fit``'s ``random_state`` seeds ctgan's own numpy/torch streams through
    ``set_random_state``, so the same seed gives the same network and the same samples on
    CPU; on CUDA, training kernels draw from the GPU stream and are not reproducible.
    ``sample``'s ``random_state`` seeds the draw; None draws a fresh seed.

    Parameters
    ----------
    epochs : int, default 300
        Training epochs.
    batch_size : int, default 500
        Training batch size{batch_rule}.
    progress : bool, default False
        Show ctgan's progress bar.
    device : {{"auto", "cpu", "cuda", "cuda:N"}} or torch.device, default "auto"
        "auto" uses CUDA when ``torch.cuda.is_available()``, else the CPU.
    **{kwargs_name}
        Passed to ``ctgan.{model}`` (for example ``embedding_dim``); stored as ``model_kwargs``.

    Attributes
    ----------
    model_ : ctgan.{model}
        The trained synthesizer.
    discrete_columns_ : list
        Columns treated as discrete.
    device_ : torch.device
        Device used for training.
    columns_, dtypes_, kinds_, n_rows_
        Layout of the fitted frame.
    """
