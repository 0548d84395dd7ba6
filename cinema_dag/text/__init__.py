"""Text stages: the metadata template, prompt generation, the caption corpus and LoRA training."""
