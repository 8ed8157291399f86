"""A Pretrained initializer that fails loudly on mismatched backbone keys."""
