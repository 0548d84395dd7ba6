"""What a person browsing the asset catalogue sees: every asset described, owned, kinded, versioned,
and grouped by its stage, with the groups in the order of the graph."""

import pytest

from cinema_dag.assets._common import ASSET_GROUPS, OWNERS
from cinema_dag.definitions import defs


@pytest.fixture(scope="module")
def graph():
    return defs().get_repository_def().asset_graph


def test_every_asset_has_description_owners_kinds_group_and_code_version(graph):
    problems = []
    for key in graph.get_all_asset_keys():
        node, name = graph.get(key), key.to_user_string()
        if node.group_name not in ASSET_GROUPS:
            problems.append(f"{name}: group {node.group_name!r} is not one of {ASSET_GROUPS}")
            continue
        if len((node.description or "").strip()) < 20:
            problems.append(f"{name}: no description (a docstring or description=)")
        if list(node.owners) != OWNERS[node.group_name]:
            problems.append(f"{name}: owners {node.owners} are not OWNERS[{node.group_name!r}]")
        if not node.kinds:
            problems.append(f"{name}: no kinds")
        if not node.code_version:
            problems.append(f"{name}: no code_version")
    assert not problems, "\n".join(problems)


def test_groups_follow_the_graph(graph):
    # Data flows from collection to evaluation: no asset depends on one in a later group.
    order = {group: i for i, group in enumerate(ASSET_GROUPS)}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        for parent in node.parent_keys:
            upstream = graph.get(parent)
            assert order[upstream.group_name] <= order[node.group_name], (parent, key)


def test_every_stage_has_its_group(graph):
    groups = {graph.get(k).key.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups["scraped_images"] == groups["image_captions"] == "collection"
    assert groups["prompt_corpus"] == groups["prompt_lora"] == "training"
    assert {groups[a] for a in ("generated_prompts", "disaster_images", "motion_masks", "depth_maps")} == {"generation"}
    assert {groups[a] for a in ("depth_ldis", "flow_fields", "cinemagraphs")} == {"animation"}
