from .mix_data_preprocessor import MixSKDDataPreprocessor, to_channels_last
from .multi_view_data_preprocessor import MultiViewClsDataPreprocessor

__all__ = [
    'MixSKDDataPreprocessor', 'MultiViewClsDataPreprocessor', 'to_channels_last'
]
