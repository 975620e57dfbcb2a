"""Video and audio files: the offline clip renderer (`animate`), validation of untrusted media read back
from storage or uploaded (`probe`), and thumbnails (a frame of a video, a waveform of an audio file).

Bytes and numbers in and out; no Flask, database or network. PyAV (`av`, FFmpeg bundled in the wheel)
and numpy are imported inside the functions so importing the package costs nothing.
"""
