"""MMV: multimodal versatile networks (Alayrac et al., 2020).

- :class:`MMVModule`: a backbone per modality (vision, audio, text) and linear heads into the
  embedding spaces of the ``"shared"``, ``"disjoint"`` or ``"fac"`` option;
- :class:`MMV`: the estimator, trained on NCE (vision-audio) plus MIL-NCE (vision-text).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from mmlib._checks import (
    check_array,
    check_is_fitted,
    check_positive_float,
    check_positive_int,
    check_views,
)
from mmlib.models._common import _check_encoders, _encoder_width
from mmlib.models._estimator import DeepEstimator, estimator_parameters
from mmlib.nets import _check_input, _first_weight, make_encoders
from mmlib.training import _refuse_meta

__all__ = ["MMV", "MMVModule"]

#: The three modalities of MMV, in the order of the views.
MMV_MODALITIES = ("vision", "audio", "text")
#: Which heads each space option has: (modality or source space, target space).
_MMV_HEADS = {
    "shared": (("vision", "vat"), ("audio", "vat"), ("text", "vat")),
    "disjoint": (("vision", "va"), ("audio", "va"), ("vision", "vt"), ("text", "vt")),
    "fac": (("vision", "va"), ("audio", "va"), ("va", "vat"), ("text", "vat")),
}
#: The space in which two modalities are compared (None: no common space).
_MMV_PAIR_SPACE = {
    "shared": {"va": "vat", "vt": "vat", "at": "vat"},
    "disjoint": {"va": "va", "vt": "vt", "at": None},
    "fac": {"va": "va", "vt": "vat", "at": "vat"},
}


def _mmv_space(space) -> str:
    if not isinstance(space, str) or space not in _MMV_HEADS:
        raise ValueError(f"space must be one of {sorted(_MMV_HEADS)}, got {space!r}")
    return space


class MMVModule(nn.Module):
    r"""The networks of MMV: a backbone per modality and linear heads into the embedding spaces.

    Backbones :math:`f_m` (vision, audio, text) give representations :math:`f_m(x_m)`; linear
    heads :math:`g` map them into the spaces of the chosen option:

    - ``"shared"``: one space :math:`S_{vat}`, :math:`z_{m,vat} = g_m^{vat}(f_m(x_m))` for all three;
    - ``"disjoint"``: :math:`S_{va}` (vision, audio) and :math:`S_{vt}` (vision, text), with two
      vision heads and no common space for audio and text;
    - ``"fac"`` (fine and coarse): the fine space :math:`S_{va}` first, then the coarse space
      :math:`S_{vat}` *projected from it*, :math:`z_{v,vat} = g^{va \to vat}(z_{v,va})`, where text
      is compared; audio reaches :math:`S_{vat}` through the same (vision) projection,
      :math:`z_{a,vat} = g^{va \to vat}(z_{a,va})`, as in the released code at test time.

    Parameters
    ----------
    in_dims : three ints
        Input widths of vision, audio and text.
    space : {"shared", "disjoint", "fac"}
    embed_dim : int
        Dimension of every embedding space.
    backbone_dim : int
        Output width of the MLP backbones (ignored with ``encoders``).
    hidden, activation
        Hidden widths and non-linearity of the MLP backbones (:class:`mmlib.nets.MLP`).
    encoders : three torch.nn.Module, optional
        Your own backbones instead (each maps ``(n, d_m)`` to ``(n, width_m)``).
    """

    def __init__(
        self,
        in_dims: Sequence[int],
        space: str = "fac",
        embed_dim: int = 16,
        backbone_dim: int = 64,
        hidden: Sequence[int] = (128,),
        activation: str = "relu",
        encoders: Sequence[nn.Module] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(in_dims, Sequence) or len(in_dims) != 3:
            raise ValueError(f"in_dims must be three ints (vision, audio, text), got {in_dims!r}")
        dims = [check_positive_int(d, f"in_dims[{j}]") for j, d in enumerate(in_dims)]
        self.space = _mmv_space(space)
        embed_dim = check_positive_int(embed_dim, "embed_dim")
        if encoders is None:
            backbone_dim = check_positive_int(backbone_dim, "backbone_dim")
            self.backbones = make_encoders(dims, backbone_dim, hidden, activation)
            widths = [backbone_dim] * 3
        else:
            encoders = _check_encoders(encoders, 3, unit="modality")
            widths = [
                _encoder_width(e, d, f"encoders[{j}]", f"the {m} view")
                for j, (e, d, m) in enumerate(zip(encoders, dims, MMV_MODALITIES, strict=True))
            ]
            self.backbones = nn.ModuleList(encoders)
        self.in_dims = dims
        dtypes = {w.dtype for w in map(_first_weight, self.backbones) if w is not None}
        if len(dtypes) > 1:
            raise TypeError(
                f"encoders must share one floating dtype (their heads are built in it), got "
                f"{sorted(str(d) for d in dtypes)}"
            )
        dtype = dtypes.pop() if dtypes else torch.get_default_dtype()
        width = dict(zip(MMV_MODALITIES, widths, strict=True))
        width["va"] = embed_dim
        self.heads = nn.ModuleDict(
            {
                f"{src}_{dst}": nn.Linear(width[src], embed_dim)
                for src, dst in _MMV_HEADS[self.space]
            }
        ).to(dtype)

    def embed(self, x: torch.Tensor, modality: str) -> dict[str, torch.Tensor]:
        """Embeddings of one modality in every space it has.

        Returns ``{space: (n, embed_dim)}``. ``x`` is ``(n, d_m)``, or
        ``(n, K, d_m)`` for K captions per sample (then each embedding is
        ``(n, K, embed_dim)``). The embeddings are not normalised (the losses
        normalise).
        """
        if not isinstance(modality, str) or modality not in MMV_MODALITIES:
            raise ValueError(f"modality must be in {MMV_MODALITIES}, got {modality!r}")
        j = MMV_MODALITIES.index(modality)
        name = f"x ({modality})"
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim not in (2, 3):
            raise ValueError(f"{name} must be (n, d) or (n, K, d): {tuple(x.shape)}")
        if x.shape[0] == 0 or x.shape[-1] == 0:
            raise ValueError(f"{name} is empty (shape {tuple(x.shape)})")
        rows = x.reshape(-1, x.shape[-1])
        weight = _first_weight(self.backbones[j])
        _check_input(rows, self.in_dims[j], weight, name=name)
        lead = x.shape[:-1]
        h = self.backbones[j](rows)
        out = {
            dst: head(h)
            for key, head in self.heads.items()
            for src, dst in [key.split("_")]
            if src == modality
        }
        if "va" in out and "va_vat" in self.heads:  # FAC: coarse off the fine space
            out["vat"] = self.heads["va_vat"](out["va"])
        return {s: z.reshape(*lead, -1) for s, z in out.items()}

    def forward(
        self, vision: torch.Tensor, audio: torch.Tensor, text: torch.Tensor
    ) -> dict[str, dict[str, torch.Tensor]]:
        """``{space: {modality: embedding}}`` for the three modalities."""
        out: dict[str, dict[str, torch.Tensor]] = {}
        for modality, x in zip(MMV_MODALITIES, (vision, audio, text), strict=True):
            for s, z in self.embed(x, modality).items():
                out.setdefault(s, {})[modality] = z
        return out


@estimator_parameters
class MMV(DeepEstimator):
    r"""Multimodal versatile networks: contrastive embeddings of vision, audio and text.

    Trained on the loss of Alayrac et al. (2020), for a batch of samples :math:`x`,

    .. math::

        \mathcal L(x) = \lambda_{va}\, \text{NCE}(z_{v}, z_{a})
                      + \lambda_{vt}\, \text{MIL-NCE}(z_{v}, \{z_{t,k}\}_{k=1}^K),

    each term computed in the space where its pair is compared (``space``, see
    :class:`MMVModule`): vision-audio in :math:`S_{va}` (``"disjoint"``, ``"fac"``) or
    :math:`S_{vat}` (``"shared"``), vision-text in :math:`S_{vt}` (``"disjoint"``) or
    :math:`S_{vat}` (``"shared"``, ``"fac"``). See :func:`mmlib.losses.nce` and
    :func:`mmlib.losses.mil_nce`.

    Output (the deep estimators' convention, ``mmlib.models._estimator``): :meth:`transform`
    gives ``{space: {modality: (n, e)}}`` unit embeddings (``None`` leaves a modality out);
    :meth:`transform_views` each modality's embedding in one space.

    Parameters
    ----------
    space : {"fac", "shared", "disjoint"}, default "fac"
    embed_dim : int, default 16
    backbone_dim : int, default 64
    hidden : sequence of int, default (128,)
        Hidden widths of the MLP backbones.
    activation : str, default "relu"
    encoders : list of three torch.nn.Module, optional
        Your own backbones for vision, audio, text (copied at ``fit``, so the modules you pass
        are not changed; their initial weights are yours, not seeded by ``random_state``).
    vt_loss : {"mil_nce", "nce"}, default "mil_nce"
        Vision-text loss. With K candidate captions per sample, ``"mil_nce"`` treats all of them
        as the bag of positives; ``"nce"`` uses the first candidate only, a single caption per
        sample as in the NCE baseline of Miech et al. (2020).
    temperature : float > 0, default 0.1
    loss_weights : (float, float), default (1.0, 1.0)
        :math:`(\lambda_{va}, \lambda_{vt})`, each >= 0, not both 0.
    epochs, batch_size, lr, weight_decay
        As in :func:`mmlib.training.train` (Adam; ``batch_size`` >= 2, the negatives come from
        the batch).
    device, random_state, progress
        As in :class:`mmlib.models.DCCA`.

    Attributes
    ----------
    module_ : MMVModule
    history_ : mmlib.training.History
    n_features_in_ : list of int
        Widths of vision, audio, text.
    n_captions_ : int
        Candidate captions per sample seen in ``fit``.
    device_ : torch.device

    References
    ----------
    J.-B. Alayrac, A. Recasens, R. Schneider, R. Arandjelovic, J. Ramapuram, J. De Fauw,
    L. Smaira, S. Dieleman, A. Zisserman. Self-supervised multimodal versatile networks.
    NeurIPS 2020.
    """

    space: str = "fac"
    embed_dim: int = 16
    backbone_dim: int = 64
    hidden: Sequence[int] = (128,)
    activation: str = "relu"
    encoders: Sequence[nn.Module] | None = None
    vt_loss: str = "mil_nce"
    temperature: float = 0.1
    loss_weights: Sequence[float] = (1.0, 1.0)
    epochs: int = 30
    batch_size: int | None = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    device: str | None = None
    random_state: int | None = 0
    progress: bool | None = None

    @staticmethod
    def pair_space(space: str, first: str, second: str) -> str | None:
        """The space in which two modalities are compared under ``space`` (None: there is none).

        >>> MMV.pair_space("fac", "audio", "text")
        'vat'
        >>> MMV.pair_space("disjoint", "audio", "text") is None
        True
        """
        space = _mmv_space(space)
        for m in (first, second):
            if m not in MMV_MODALITIES:
                raise ValueError(f"modality must be one of {MMV_MODALITIES}, got {m!r}")
        if first == second:
            raise ValueError(f"give two different modalities, got {first!r} twice")
        key = "".join(sorted({first[0], second[0]}, key="vat".index))
        return _MMV_PAIR_SPACE[space][key]

    def _check_text(self, text, n: int, name: str, allow_3d: bool) -> np.ndarray:
        arr = np.asarray(text) if not hasattr(text, "detach") else text.detach().cpu().numpy()
        if allow_3d and arr.ndim == 3:
            if arr.shape[1] == 0:
                raise ValueError(f"{name} has no candidate captions (shape {arr.shape})")
            flat = check_array(arr.reshape(arr.shape[0], -1), name=name)
            arr = flat.reshape(arr.shape)
        else:
            arr = check_array(text, name=name)
        if arr.shape[0] != n:
            raise ValueError(
                f"{name} has {arr.shape[0]} samples but views[0] has {n} (rows must be paired)"
            )
        return arr

    def _check_fit_views(self, views, name: str = "views") -> list[np.ndarray]:
        if not isinstance(views, (list, tuple)) or len(views) != 3:
            raise TypeError(
                f"{name} must be a list [vision (n, d_v), audio (n, d_a), text (n, d_t) or "
                f"(n, K, d_t)], got {type(views).__name__}"
                + (f" of length {len(views)}" if isinstance(views, (list, tuple)) else "")
            )
        _refuse_meta(views, name)
        va = check_views(list(views[:2]), min_views=2, max_views=2, name=name)
        return [*va, self._check_text(views[2], va[0].shape[0], f"{name}[2]", allow_3d=True)]

    def _n_features(self, views) -> list[int]:
        return [views[0].shape[1], views[1].shape[1], views[2].shape[-1]]

    def _training_views(self, views, val_views):
        """The text as a bag of K captions per sample, flattened to rows ``(n, K * d_t)``."""
        k = _bags(views[2]).shape[1]
        if val_views is not None and _bags(val_views[2]).shape[1] != k:
            raise ValueError(
                f"val_views[2] has {_bags(val_views[2]).shape[1]} captions per sample but views[2] "
                f"has {k}: give the same number"
            )

        def rows(vs):
            return [vs[0], vs[1], _bags(vs[2]).reshape(vs[2].shape[0], -1)]

        return rows(views), None if val_views is None else rows(val_views)

    def _build(self, views, val_views):
        """The module, and the loss: NCE (vision-audio) plus MIL-NCE or NCE (vision-text)."""
        from mmlib.losses import mil_nce, nce

        space = _mmv_space(self.space)
        if self.vt_loss not in ("mil_nce", "nce"):
            raise ValueError(f"vt_loss must be 'mil_nce' or 'nce', got {self.vt_loss!r}")
        tau = check_positive_float(self.temperature, "temperature")
        lam_va, lam_vt = self._loss_weights()
        k, d_t = _bags(views[2]).shape[1:]
        module = MMVModule(
            self._n_features(views),
            space=space,
            embed_dim=self.embed_dim,
            backbone_dim=self.backbone_dim,
            hidden=self.hidden,
            activation=self.activation,
            encoders=self._copied_encoders(3, unit="modality"),
        )
        va_space = self.pair_space(space, "vision", "audio")
        vt_space = self.pair_space(space, "vision", "text")
        n_captions = k if self.vt_loss == "mil_nce" else 1  # NCE: the single (first) caption

        def loss_fn(m, batch):
            v, a, t = batch
            z = m(v, a, t.reshape(t.shape[0], k, d_t)[:, :n_captions])
            loss_va = nce(z[va_space]["vision"], z[va_space]["audio"], tau)
            loss_vt = mil_nce(z[vt_space]["vision"], z[vt_space]["text"], tau)
            return lam_va * loss_va + lam_vt * loss_vt

        return module, loss_fn

    def _loss_weights(self) -> tuple[float, float]:
        weights = self.loss_weights
        if not isinstance(weights, (list, tuple)) or len(weights) != 2:
            raise ValueError(f"loss_weights must be two numbers (va, vt), got {weights!r}")
        lam_va, lam_vt = (
            check_positive_float(w, f"loss_weights[{j}]", allow_zero=True)
            for j, w in enumerate(weights)
        )
        if lam_va == 0 and lam_vt == 0:
            raise ValueError("loss_weights must not both be 0")
        return lam_va, lam_vt

    def _after_fit(self, views) -> None:
        self.n_captions_ = _bags(views[2]).shape[1]

    def fit(self, views, y=None, val_views=None):
        """Train on ``[vision (n, d_v), audio (n, d_a), text]``, rows paired.

        ``text`` is ``(n, d_t)`` (one caption per sample) or ``(n, K, d_t)`` (K candidate captions
        per sample, the bag of positives of MIL-NCE). ``y`` is ignored (self-supervised);
        ``val_views`` (same form, same K) for validation.

        Returns
        -------
        self
        """
        return super().fit(views, val_views=val_views)

    def transform(self, views) -> dict[str, dict[str, np.ndarray]]:
        """Unit-norm embeddings of (new) samples in every space: ``{space: {modality: (n, e)}}``.

        Parameters
        ----------
        views : list of three array-like or None
            ``[vision (n, d_v), audio (n, d_a), text (n, d_t)]``; a modality given as ``None``
            is left out (e.g. ``[None, audio, None]`` embeds sounds only).

        Returns
        -------
        dict
            For ``"shared"``: ``{"vat": {...}}``; ``"disjoint"``: ``{"va": {vision, audio},
            "vt": {vision, text}}``; ``"fac"``: ``{"va": {vision, audio}, "vat": {vision,
            audio, text}}`` (audio reaches ``"vat"`` through the vision projection).
        """
        views = self._check_views_with_gaps(views, unit="modality")
        out: dict[str, dict[str, np.ndarray]] = {}
        for modality, x in zip(MMV_MODALITIES, views, strict=True):
            if x is None:
                continue
            z = self._no_grad(self.module_.embed, self._tensor(x), modality)
            for s, e in z.items():
                out.setdefault(s, {})[modality] = self._numpy(nn.functional.normalize(e, dim=1))
        return out

    def transform_views(self, views, space: str | None = None) -> list[np.ndarray | None]:
        """Each modality's unit embedding ``(n, e)`` in one space; ``None`` for a missing one.

        Parameters
        ----------
        views : list of three array-like or None
            As in :meth:`transform`.
        space : str, optional
            The embedding space: default the one holding all three modalities (``"vat"`` for
            the ``"fac"`` and ``"shared"`` options); ``"disjoint"`` has none, so give ``"va"``
            or ``"vt"``. A modality given but absent from that space is a ``ValueError``.
        """
        check_is_fitted(self, "module_")
        space = self._views_space(space)
        z = self.transform(views)
        codes = []
        for modality, x in zip(MMV_MODALITIES, views, strict=True):
            if x is not None and modality not in z[space]:
                raise ValueError(
                    f"{modality} has no embedding in the space {space!r} of space="
                    f"{self.space!r} (it holds {', '.join(z[space])}): pass None for it"
                )
            codes.append(None if x is None else z[space][modality])
        return codes

    def _views_space(self, space: str | None) -> str:
        spaces = sorted({dst for _, dst in _MMV_HEADS[self.space]})
        if space is None and "vat" not in spaces:
            raise ValueError(
                f"space={self.space!r} has no space holding all three modalities: pass "
                "space='va' (vision, audio) or space='vt' (vision, text)"
            )
        if space is not None and space not in spaces:
            raise ValueError(
                f"space must be one of {spaces} for space={self.space!r}, got {space!r}"
            )
        return "vat" if space is None else space

    def fit_transform(self, views, y=None, val_views=None) -> dict[str, dict[str, np.ndarray]]:
        """``fit(views)`` then ``transform`` of the views (the first caption when K > 1)."""
        self.fit(views, val_views=val_views)
        text = np.asarray(views[2])
        return self.transform([views[0], views[1], text[:, 0] if text.ndim == 3 else text])


def _bags(text: np.ndarray) -> np.ndarray:
    """Text as ``(n, K, d_t)`` bags of captions (``K = 1`` for ``(n, d_t)``)."""
    return text if text.ndim == 3 else text[:, None, :]
