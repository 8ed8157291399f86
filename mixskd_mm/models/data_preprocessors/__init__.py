from .mix_data_preprocessor import MixSKDDataPreprocessor, to_channels_last

__all__ = ['MixSKDDataPreprocessor', 'to_channels_last']
