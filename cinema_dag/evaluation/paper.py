"""The paper's published numbers (Table 1), as data, so our table can show them beside ours.

Source: Won, Choi, Choi, Bae, "Text-To-3D Cinemagraphs for Generation of Visual Content in
Disaster Alerts: A Generative AI Framework with LLMs and Diffusion Models", Journal of Broadcast
Engineering 29(5), September 2024, doi:10.5909/JBE.2024.29.5.662, Table 1 "Performance Comparison
of T2I Models across Disaster Scenarios" (values copied as printed; the paper reports no KID and
does not say how many images, at which size, or how LPIPS and SSIM pairs were formed).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["PAPER_SOURCE", "PAPER_SHORT", "PAPER_MODELS", "PAPER_METRICS", "PAPER_TABLE1", "paper_metrics"]

PAPER_SOURCE = "Won, Choi, Choi, Bae, JBE 29(5) 2024, doi:10.5909/JBE.2024.29.5.662, Table 1"
PAPER_SHORT = "Table 1 of Won et al. 2024"

#: The paper's three T2I models, in its row order ("Ours" is its metadata-prompted SD).
PAPER_MODELS: tuple[str, ...] = ("DALL-E", "Stable Diffusion", "Ours")

#: The metrics the paper reports (keys of :data:`cinema_dag.evaluation.cells.METRICS`).
PAPER_METRICS: tuple[str, ...] = ("fid", "clip_score", "lpips", "ssim")

_ROWS = {
    # disaster key: {model: (FID ↓, CLIP ↑, LPIPS ↓, SSIM ↑)}
    "drought": {
        "DALL-E": (58.9621, 0.302246, 0.563841, 0.096903283),
        "Stable Diffusion": (47.8415, 0.305664, 0.505445, 0.113314714),
        "Ours": (45.24, 0.291504, 0.53953, 0.210081838),
    },
    "earthquake": {
        "DALL-E": (48.941, 0.269775, 0.597162, 0.124740098),
        "Stable Diffusion": (45.3205, 0.276367, 0.616291, 0.243389424),
        "Ours": (51.5152, 0.256592, 0.629937, 0.300104171),
    },
    "heavy_snow": {  # "heavy snow" in the paper
        "DALL-E": (42.8278, 0.285156, 0.59649, 0.216841497),
        "Stable Diffusion": (47.1569, 0.288086, 0.664955, 0.555356296),
        "Ours": (39.8914, 0.298584, 0.636955, 0.508998988),
    },
    "landslide": {
        "DALL-E": (46.9144, 0.305908, 0.613208, 0.139957937),
        "Stable Diffusion": (57.1535, 0.274902, 0.68916, 0.293309681),
        "Ours": (38.3474, 0.308105, 0.642025, 0.445461847),
    },
    "wildfire": {
        "DALL-E": (33.5569, 0.30127, 0.64909, 0.427983221),
        "Stable Diffusion": (36.2084, 0.296387, 0.658495, 0.369551316),
        "Ours": (27.692, 0.304199, 0.622422, 0.463339194),
    },
    "flood": {
        "DALL-E": (47.9652, 0.27832, 0.613305, 0.354063124),
        "Stable Diffusion": (44.0885, 0.276855, 0.639292, 0.321260773),
        "Ours": (42.8126, 0.271484, 0.627062, 0.495805458),
    },
    "typhoon": {
        "DALL-E": (58.4703, 0.270752, 0.59471, 0.247385279),
        "Stable Diffusion": (61.9068, 0.264893, 0.617294, 0.177115488),
        "Ours": (51.6765, 0.286621, 0.632521, 0.297621737),
    },
}

#: ``PAPER_TABLE1[disaster][model][metric]``, e.g. ``PAPER_TABLE1["wildfire"]["Ours"]["fid"] == 27.692``.
PAPER_TABLE1: Mapping[str, Mapping[str, Mapping[str, float]]] = MappingProxyType({
    disaster: MappingProxyType({
        model: MappingProxyType(dict(zip(PAPER_METRICS, values, strict=True))) for model, values in models.items()
    })
    for disaster, models in _ROWS.items()
})


def paper_metrics(disaster: str, model: str) -> Mapping[str, float]:
    """The paper's numbers for one disaster key and one of :data:`PAPER_MODELS`.

    Raises:
        KeyError: naming the bad disaster or model and the valid ones.
    """
    if disaster not in PAPER_TABLE1:
        raise KeyError(f"the paper's Table 1 has no disaster {disaster!r}; it has {', '.join(PAPER_TABLE1)}")
    if model not in PAPER_TABLE1[disaster]:
        raise KeyError(f"the paper's Table 1 has no model {model!r}; it has {', '.join(PAPER_MODELS)}")
    return PAPER_TABLE1[disaster][model]
