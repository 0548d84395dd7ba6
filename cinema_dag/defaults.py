"""The default of every knob that a core function and an asset's config both expose, defined once.

Core signatures (``num_layers: int = DEFAULT_NUM_LAYERS``) and the Dagster configs
(``Field(default=DEFAULT_NUM_LAYERS)``) name these constants, so what the UI offers and what the
library does cannot drift apart. Plain values and no imports: ``cinema_dag.definitions`` reads them
at load time without importing torch. Knobs only an asset has (``num_images``, ``timeout_s``,
``gif_max_side`` …) keep their default in that asset's config; model-dependent run settings
(image size, steps, sampling) are the profiles' (:mod:`cinema_dag.models.profiles`).
"""

# generated_prompts (cinema_dag.text.prompts.generate_prompts)
DEFAULT_NUM_PROMPTS = 2

# scraped_images (cinema_dag.scraping, cinema_dag.vision.quality.filter_images)
DEFAULT_MAX_IMAGES = 200          # images kept per disaster type
DEFAULT_MIN_SIZE = 256            # smallest width and height kept, px
DEFAULT_BLUR_THRESHOLD = 100.0    # smallest variance of the Laplacian kept (512 x 512 gray)
DEFAULT_HASH_DISTANCE = 6         # pHash bits at or below which two photos are near-duplicates

# image_captions (cinema_dag.vision.caption.caption_images)
DEFAULT_CAPTION_MAX_NEW_TOKENS = 30
DEFAULT_CAPTION_BATCH_SIZE = 8

# prompt_corpus (cinema_dag.text.corpus.build_prompt_corpus)
DEFAULT_HELD_OUT_FRACTION = 0.1
DEFAULT_INCLUDE_SEED = True       # add the template's hand-written examples: every type covered

# prompt_lora (cinema_dag.text.lora.train_lora, apply_lora)
DEFAULT_LORA_R = 8
DEFAULT_LORA_ALPHA = 16
DEFAULT_LORA_DROPOUT = 0.05
DEFAULT_LORA_TARGET_MODULES = ("q_proj", "v_proj")
DEFAULT_LORA_LEARNING_RATE = 2e-3
DEFAULT_LORA_MAX_STEPS = 60
DEFAULT_LORA_BATCH_SIZE = 4
DEFAULT_LORA_MAX_LENGTH = 256     # tokens per example

# motion_masks (cinema_dag.vision.segment: GroundingDINO boxes, then SAM masks)
DEFAULT_BOX_THRESHOLD = 0.3
DEFAULT_TEXT_THRESHOLD = 0.25
DEFAULT_MASK_THRESHOLD = 0.0      # SAM mask logit

# depth_ldis (cinema_dag.cinemagraph.depth, .ldi)
DEFAULT_MAX_DEPTH = 100.0         # depth of the farthest pixel, in units of the nearest
DEFAULT_NUM_LAYERS = 2

# cinemagraphs (cinema_dag.cinemagraph.animate, .camera, .encode)
DEFAULT_NUM_FRAMES = 60
DEFAULT_FPS = 25
DEFAULT_CRF = 18                  # H.264 quality: 18 looks lossless
DEFAULT_KERNEL = "sharp"          # sub-pixel resampling of moving texture (cinemagraph.resample.KERNELS)
DEFAULT_CROSSFADE = 0.25          # each pixel's cross-fade, as a fraction of the loop (cinemagraph.loopblend)
DEFAULT_FILL_HOLES = True         # fill pixels no point reaches (cinemagraph.animate); off only to debug
DEFAULT_CAMERA_SCALE = 1.0        # multiplies the camera path's amplitudes (cinemagraph.camera.camera_path)

# cinemagraph quality checks (cinema_dag.cinemagraph.quality.LoopThresholds, assets/cinemagraphs.py)
DEFAULT_MAX_SEAM_ERROR = 0.0         # frame N must reproduce frame 0 bit for bit
DEFAULT_MAX_WRAP_STEP_RATIO = 2.0    # the wrap step over the median step (0.4-1.6 measured); a jump back is several x
DEFAULT_MAX_UNFILLED_FRACTION = 0.0  # pixels left unfilled after the hole filler
DEFAULT_MAX_FLICKER = 0.0            # grey levels of change outside the moving region, still camera
DEFAULT_MIN_SHARPNESS = 0.75         # S(t) of the moving region, relative to the photo
DEFAULT_MAX_SHARPNESS_JUMP = 0.1     # largest |S(t) - S(t-1)|, the wrap included
DEFAULT_STILL_PASS_FRAMES = 5        # frames (0 and N among them) of the still-camera pass: a moving camera's flicker

# where the default resources keep their files (cinema_dag.resources: ArtefactStore, ModelRegistry)
DEFAULT_HOME = "data"             # $CINEMA_DAG_HOME: <home>/artefacts, <home>/models
