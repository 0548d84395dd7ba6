"""Spiders: they parse pages into :class:`~cinema_dag.scraping.items.ImageItem`s and links; nothing else."""

from cinema_dag.scraping.spiders.disaster_images import DisasterImagesSpider

__all__ = ["DisasterImagesSpider"]
