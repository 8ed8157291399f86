"""A sampler that follows every image with other images of its class.

CS-KD (``num_partners=1``) distils each image's prediction from that of
another image of the same class; BAKE (``num_partners=M``) propagates
predictions between images of one class in a batch. Both need batches built
of such groups, which this sampler gives to mmengine's Runner as a plain
``sampler`` (so DDP, ``set_epoch`` and resuming work as with
``DefaultSampler``).
"""
from typing import Dict, Iterator, List, Optional, Sized

import numpy as np
from mmengine.dataset import DefaultSampler
from mmpretrain.registry import DATA_SAMPLERS

from ..utils.validate import check_number

__all__ = ['IntraClassSampler']


def dataset_labels(dataset: Sized) -> np.ndarray:
    """The class index of every sample, shape (len(dataset), ).

    Reads ``get_gt_labels()`` (mmpretrain's datasets) or, per sample,
    ``get_cat_ids(i)`` (mmengine's dataset wrappers); no image is loaded.
    """
    if hasattr(dataset, 'get_gt_labels'):
        labels = np.asarray(dataset.get_gt_labels())
    elif hasattr(dataset, 'get_cat_ids'):
        labels = np.array([dataset.get_cat_ids(i)[0]
                           for i in range(len(dataset))])
    else:
        raise TypeError(
            'IntraClassSampler groups images by class and needs a dataset '
            'with get_gt_labels() or get_cat_ids(i) (every mmpretrain '
            f'dataset has them), got {type(dataset).__name__}')
    if labels.ndim != 1 or len(labels) != len(dataset):
        raise ValueError(
            'IntraClassSampler needs one single-label class per image, got '
            f'labels of shape {labels.shape} for {len(dataset)} images')
    return labels.astype(np.int64)


@DATA_SAMPLERS.register_module()
class IntraClassSampler(DefaultSampler):
    """Each index of ``DefaultSampler`` followed by ``num_partners`` others
    of the same class.

    Yields ``a_1, p_11 .. p_1k, a_2, p_21 .. p_2k, ...``: the anchors ``a``
    are ``DefaultSampler``'s (shuffled with ``seed + epoch``, shared out
    over the ranks), the partners ``p`` are drawn from the whole dataset,
    never the anchor itself: ``k`` distinct images when its class has ``k``
    others, else with replacement (Self-KD-Lib's BAKE sampler). With a
    batch size that is a multiple of ``k + 1`` every batch holds whole
    groups (batch size / (k + 1) anchors), and an epoch has as many steps as
    one over the anchors with a batch of that many images. Partners are
    drawn from a generator seeded with (seed, epoch, rank), so a run is
    reproducible and ranks draw differently.

    Args:
        dataset (Sized): A single-label dataset (``get_gt_labels`` or
            ``get_cat_ids``). Every class needs two images or more.
        num_partners (int): ``k``: 1 for CS-KD, ``M`` for BAKE.
            Defaults to 1.
        shuffle (bool): Shuffle the anchors. Defaults to True.
        seed (int, optional): As ``DefaultSampler``'s (the Runner passes
            its seed).
        round_up (bool): As ``DefaultSampler``'s. Defaults to True.

    Raises:
        ValueError: A class has a single image (named in the message): it
            has no partner.
    """

    def __init__(self,
                 dataset: Sized,
                 num_partners: int = 1,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        super().__init__(dataset, shuffle=shuffle, seed=seed,
                         round_up=round_up)
        self.num_partners = check_number(
            num_partners, 'train_dataloader.sampler.num_partners', 1,
            integer=True,
            why='the number of other images of its class after each image '
            '(1 for CS-KD, M for BAKE)')
        labels = dataset_labels(dataset)
        self.labels = labels
        order = np.argsort(labels, kind='stable')
        classes, starts, counts = np.unique(
            labels[order], return_index=True, return_counts=True)
        #: class -> its sample indices, ascending.
        self.class_indices: Dict[int, np.ndarray] = {
            int(c): order[s:s + n]
            for c, s, n in zip(classes, starts, counts)
        }
        # Position of each sample inside its class's index array.
        self._position = np.empty(len(labels), dtype=np.int64)
        for members in self.class_indices.values():
            self._position[members] = np.arange(len(members))
        singles = [c for c, m in self.class_indices.items() if len(m) < 2]
        if singles:
            raise ValueError(
                'IntraClassSampler pairs every image with another image of '
                'its class, but ' + self._describe(singles) + ' a single '
                'image: give every class two images or more (add images, '
                'or drop the class from the annotation file), or use a '
                'method that needs no same-class partner')

    def _describe(self, classes: List[int]) -> str:
        names = (getattr(self.dataset, 'metainfo', None) or {}).get('classes')
        shown = []
        for c in classes[:10]:
            name = (f' ({names[c]!r})'
                    if names is not None and 0 <= c < len(names) else '')
            index = int(self.class_indices[c][0])
            shown.append(f'{c}{name}, image index {index}')
        more = f' and {len(classes) - 10} more' if len(classes) > 10 else ''
        which = 'class' if len(classes) == 1 else 'classes'
        verb = 'has' if len(classes) == 1 else 'each have'
        return f'{which} {"; ".join(shown)}{more} {verb}'

    def partners(self, index: int, rng: np.random.Generator) -> List[int]:
        """``num_partners`` other indices of the class of ``index``."""
        members = self.class_indices[int(self.labels[index])]
        others, k = len(members) - 1, self.num_partners
        if others >= k:
            picks = rng.choice(others, size=k, replace=False)
        else:
            picks = rng.integers(0, others, size=k)
        # Draws over the others: skip the anchor's own position.
        picks = picks + (picks >= self._position[index])
        return [int(i) for i in members[picks]]

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng([self.seed, self.epoch, self.rank])
        for index in super().__iter__():
            yield index
            yield from self.partners(index, rng)

    def __len__(self) -> int:
        """Anchors of this rank times (1 + num_partners)."""
        return self.num_samples * (1 + self.num_partners)
