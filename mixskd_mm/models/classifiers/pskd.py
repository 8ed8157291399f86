"""PS-KD: self-distillation from the previous epoch's predictions.

"Self-Knowledge Distillation with Progressive Refinement of Targets",
Kim et al., ICCV 2021, https://arxiv.org/abs/2006.12000; settings of the
Self-KD-Lib release (``methods/ps_kd.py``, ``main.py --method PSKD``).
"""
from typing import Dict, List, Optional

import logging

import torch
from mmengine.dist import all_gather, get_world_size
from mmengine.logging import MessageHub, print_log
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ...utils.validate import check_number
from ..losses.pskd_losses import loss_soft_ce, pskd_alpha, pskd_soft_targets
from ..utils.mixing import MixBatch
from .base import DistillClassifier

__all__ = ['PSKDClassifier', 'gather_across_ranks']

STORE_DTYPES = {'float32': torch.float32, 'float16': torch.float16}


def gather_across_ranks(*tensors: Tensor) -> List[Tensor]:
    """Concatenate each tensor's rows of every process, rank order.

    Processes may hold different numbers of rows (a short last batch): the
    row counts are gathered first and every tensor is padded to the
    largest before ``mmengine.dist.all_gather``. With one process the
    tensors come back as they are.

    Args:
        *tensors (Tensor): Each (N_rank, ...), the same N_rank for all.

    Returns:
        list[Tensor]: Each (sum of N_rank, ...).
    """
    if get_world_size() == 1:
        return list(tensors)
    n = tensors[0].size(0)
    counts = [
        int(c) for c in all_gather(
            torch.tensor([n], device=tensors[0].device))
    ]
    size = max(counts)
    out = []
    for t in tensors:
        padded = t.new_zeros((size, *t.shape[1:]))
        padded[:n] = t
        parts = all_gather(padded)
        out.append(torch.cat([p[:c] for p, c in zip(parts, counts)]))
    return out


@MODELS.register_module()
class PSKDClassifier(DistillClassifier):
    """Progressive self-knowledge distillation (one network).

    Each training sample's softmax of its last visit is kept in the buffer
    ``prediction_store`` (num_samples, num_classes), indexed by the
    dataset's ``sample_idx`` (mmengine's ``BaseDataset`` sets it, the
    default ``PackInputs`` meta keys carry it). The target of a sample is
    ``(1 - alpha_t) * onehot(y) + alpha_t * p_prev`` with ``alpha_t =
    alpha_T * (epoch + 1) / max_epochs`` (0-indexed epoch, read from
    mmengine's ``MessageHub``, which ``RuntimeInfoHook`` updates in an
    epoch-based train loop; see :meth:`current_alpha`); a sample
    not yet stored gets its one-hot label (every sample in the first
    epoch). After the forward pass the batch's softmax replaces its rows.
    Under DDP the indices and predictions of every process are gathered, so
    each rank holds the whole store (the sampler gives a sample to another
    rank in the next epoch). The store is a persistent buffer: checkpoints
    carry it and ``--resume`` restores it with the weights.

    Loss dict key, times its weight in ``loss_weights``:

    - ``loss_soft_ce``: the soft-target CE of :func:`loss_soft_ce`, through
      the head's ``loss_module`` (``soft_ce`` = 1).

    Args:
        backbone (dict): Backbone config.
        head (dict): Head config; its ``num_classes`` sizes the store.
        neck (dict): Defaults to ``GlobalAveragePooling``.
        alpha_T (float): The weight of the previous prediction in the last
            epoch, in [0, 1]. Defaults to 0.8 (released).
        num_samples (int): Rows of the store: at least the training
            set's size (every ``sample_idx`` must be below it). Fixed, so
            that a checkpoint's store has the shape the config builds and
            the project's strict checkpoint check accepts ``--resume``.
        store_dtype (str): 'float32' or 'float16' (halves the memory and
            checkpoint size of a large store). Defaults to 'float32'.
        loss_weights (dict, optional): ``soft_ce``. Defaults to
            ``dict(soft_ce=1.0)``.
        data_preprocessor (dict, optional): A ``ClsDataPreprocessor`` (the
            default; a mixing one is refused).
        init_cfg (dict, optional): Defaults to None.
    """

    DEFAULT_LOSS_WEIGHTS = dict(soft_ce=1.0)

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = dict(type='GlobalAveragePooling'),
                 alpha_T: float = 0.8,
                 num_samples: Optional[int] = None,
                 store_dtype: str = 'float32',
                 loss_weights: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            backbone=backbone,
            head=head,
            neck=neck,
            loss_weights=loss_weights,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            trains_on_mixed=False)
        self.alpha_T = check_number(
            alpha_T, 'model.alpha_T', 0, 1,
            why='the weight of the previous prediction in the target')
        num_samples = check_number(
            num_samples, 'model.num_samples', 1, integer=True,
            why='the number of training samples (len of the train set)')
        if store_dtype not in STORE_DTYPES:
            raise ValueError(f'model.store_dtype must be one of '
                             f'{sorted(STORE_DTYPES)}, got {store_dtype!r}')
        self.num_classes = int(self.head.num_classes)
        self._warned_no_epoch = False
        self.register_buffer(
            'prediction_store',
            torch.zeros(num_samples, self.num_classes,
                        dtype=STORE_DTYPES[store_dtype]))

    @staticmethod
    def sample_indices(data_samples: List[DataSample]) -> Tensor:
        """The ``sample_idx`` of each sample, a long tensor (N, )."""
        try:
            return torch.as_tensor([int(s.sample_idx) for s in data_samples])
        except AttributeError:
            raise KeyError(
                'PSKDClassifier stores one prediction per training sample '
                "and needs each sample's `sample_idx`: keep 'sample_idx' in "
                'the PackInputs meta_keys of the train pipeline (mmengine '
                'BaseDataset sets it)') from None

    def current_alpha(self) -> float:
        """``alpha_t`` of the running epoch, from mmengine's MessageHub.

        Outside a Runner's epoch-based train loop (no 'epoch' or
        'max_epochs' there, e.g. a bare ``train_step``) the step is treated
        as one of the first epoch: ``alpha_t = 0``, one-hot targets, as the
        released code's epoch 0; a warning says so once.
        """
        hub = MessageHub.get_current_instance()
        epoch, max_epochs = hub.get_info('epoch'), hub.get_info('max_epochs')
        if epoch is None or max_epochs is None:
            if not self._warned_no_epoch:
                print_log(
                    "PSKDClassifier: no 'epoch'/'max_epochs' in mmengine's "
                    'MessageHub (set by RuntimeInfoHook in an epoch-based '
                    'train loop); using alpha_t = 0 (one-hot targets)',
                    logger='current', level=logging.WARNING)
                self._warned_no_epoch = True
            return 0.0
        return pskd_alpha(self.alpha_T, epoch, max_epochs)

    def previous_predictions(self, indices: Tensor):
        """Stored rows of ``indices`` and whether each holds a prediction.

        Returns:
            tuple[Tensor, Tensor]: (N, C) in the store's dtype, bool (N, ).
        """
        store = self.prediction_store
        bad = indices[(indices < 0) | (indices >= store.size(0))]
        if len(bad):
            raise IndexError(
                f'PSKDClassifier: sample_idx {int(bad[0])} is outside the '
                f'store of model.num_samples={store.size(0)} rows: set '
                'model.num_samples to the training set size')
        rows = store[indices.to(store.device)]
        # A stored softmax sums to 1; a row never written is all zeros.
        return rows, rows.float().sum(dim=1) > 0.5

    @torch.no_grad()
    def record(self, indices: Tensor, probs: Tensor) -> None:
        """Write the batch's softmax (N, C) of every process into the store.
        """
        store = self.prediction_store
        indices, probs = gather_across_ranks(
            indices.to(store.device), probs.to(store.device, store.dtype))
        # The distributed sampler pads an epoch with repeated samples; a
        # repeated index keeps its first row, so that every rank writes the
        # same value (duplicate indices in one write are undefined on GPUs).
        unique, inverse = torch.unique(indices, return_inverse=True)
        order = torch.arange(len(indices), device=indices.device)
        first = torch.full_like(unique, len(indices)).scatter_reduce(
            0, inverse, order, 'amin')
        store[unique] = probs[first]

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        """The PS-KD objective on the batch; updates the store.

        Args:
            inputs (Tensor): Normalised images, shape (N, C, H, W).
            data_samples (list[DataSample]): With ``gt_label`` and the
                ``sample_idx`` metainfo.
            mix (MixBatch, optional): Unused (always None here).

        Returns:
            dict[str, Tensor]: ``loss_soft_ce``, weighted.
        """
        labels = self.gt_labels(data_samples)
        indices = self.sample_indices(data_samples)
        previous, filled = self.previous_predictions(indices)
        targets = pskd_soft_targets(labels, previous.to(labels.device),
                                    filled.to(labels.device),
                                    self.current_alpha(),
                                    self.num_classes)
        logits = self.head(self.extract_feat(inputs))  # (N, C)
        self.record(indices, logits.detach().float().softmax(dim=1))
        return dict(loss_soft_ce=self.weighted(
            'soft_ce', loss_soft_ce(self.head.loss_module, logits, targets)))
