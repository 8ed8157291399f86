from .mix_data_preprocessor import MixSKDDataPreprocessor

__all__ = ['MixSKDDataPreprocessor']
