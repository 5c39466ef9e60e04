"""Constants shared by the batch tests."""

TOPIC = "election campaign voters poll candidate debate".split()
#: Few hash buckets and fast calibration: a small model that loads in milliseconds.
SMALL = {"n_word_features": 2**14, "n_char_features": 2**14, "cv": 3}
