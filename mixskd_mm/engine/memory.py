"""Peak memory of CPU tensors during a piece of work.

``torch.cuda.max_memory_allocated()`` has no CPU counterpart: on the CPU
the memory a training step needs is measured here as the peak of the bytes
held by live tensor storages (parameters, optimizer state, activations,
gradients, temporaries). Allocator caches and oneDNN scratch buffers are not
tensors and are not counted. Used by ``tools/benchmark.py``.
"""
import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

__all__ = ['LiveTensorBytes']


class LiveTensorBytes(TorchDispatchMode):
    """Peak bytes of the CPU tensor storages alive while it is active.

    Every storage an operator returns is counted once, until it is freed
    (a ``weakref.finalize`` on the storage); :meth:`track` adds the tensors
    that existed before (parameters, optimizer state).
    """

    def __init__(self):
        super().__init__()
        self.live = self.peak = 0
        self._seen = set()

    def track(self, tensor):
        if not isinstance(tensor, torch.Tensor) or tensor.device.type != 'cpu':
            return
        storage = tensor.untyped_storage()
        key, size = storage._cdata, storage.nbytes()
        if key in self._seen:
            return
        self._seen.add(key)
        self.live += size
        self.peak = max(self.peak, self.live)
        weakref.finalize(storage, self._free, key, size)

    def _free(self, key, size):
        self._seen.discard(key)
        self.live -= size

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            self.track(t)
        return out
