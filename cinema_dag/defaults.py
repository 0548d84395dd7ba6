"""The default of every knob that a core function and an asset's config both expose, defined once.

Plain values and no imports: ``cinema_dag.definitions`` reads them at load time without importing
torch or OpenCV.
"""

# cinemagraph quality checks (cinema_dag.cinemagraph.quality.LoopThresholds, assets/cinemagraphs.py)
DEFAULT_MAX_SEAM_ERROR = 0.0         # frame N must reproduce frame 0 bit for bit
DEFAULT_MAX_WRAP_STEP_RATIO = 2.0    # the wrap step over the median step (measured 0.4-1.6); a jump back is several x
DEFAULT_MAX_UNFILLED_FRACTION = 0.0  # pixels left unfilled after the hole filler
DEFAULT_MAX_FLICKER = 0.0            # grey levels of change outside the moving region, still camera
DEFAULT_MIN_SHARPNESS = 0.75         # S(t) of the moving region, relative to the photo
DEFAULT_MAX_SHARPNESS_JUMP = 0.1     # largest |S(t) - S(t-1)|, the wrap included
