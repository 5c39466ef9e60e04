"""veracity: tell reliable news from fake news, with calibrated probabilities and evidence."""

__version__ = "0.1.0"
