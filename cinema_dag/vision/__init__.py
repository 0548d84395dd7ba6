"""Vision stages: image generation, segmentation, depth, captioning and image quality."""
