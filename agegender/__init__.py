"""agegender: offline apparent age and gender estimation for every face in photos and video."""

__version__ = "0.1.0"
