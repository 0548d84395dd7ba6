import pytest

from cinema_dag.disasters import DISASTER_KEYS, UnknownDisasterTypeError, classify_text, get_disaster


def test_seven_snake_case_types():
    assert DISASTER_KEYS == ("flood", "landslide", "drought", "wildfire", "heavy_snow", "typhoon", "earthquake")
    for key in DISASTER_KEYS:
        assert key.isidentifier() and key == key.lower() and "," not in key


@pytest.mark.parametrize("name, key", [
    ("flood", "flood"), ("호우", "flood"), ("침수", "flood"), ("산사태", "landslide"), ("가뭄", "drought"),
    ("산불", "wildfire"), ("폭설", "heavy_snow"), ("Heavy Snow", "heavy_snow"), ("heavy-snow", "heavy_snow"),
    ("태풍", "typhoon"), ("지진", "earthquake"), ("Forest Fire", "wildfire"),
])
def test_lookup_by_any_name(name, key):
    assert get_disaster(name).key == key


def test_unknown_type_is_refused_with_the_valid_list():
    with pytest.raises(UnknownDisasterTypeError) as err:
        get_disaster("tsunami")
    message = str(err.value)
    assert "'tsunami'" in message
    for key in DISASTER_KEYS:
        assert key in message


def test_classify_text_earliest_mention_wins():
    assert classify_text("호우경보, 산사태 상습침수 등 위험지역 대피").key == "flood"
    assert classify_text("의성 산불이 길안면으로 확산되었습니다").key == "wildfire"
    assert classify_text("규모 2.2 지진발생 [기상청]").key == "earthquake"
    assert classify_text("도로 공사로 교통 통제") is None


def test_every_type_has_motion_prompts():
    for key in DISASTER_KEYS:
        d = get_disaster(key)
        assert d.motion_prompts and all(p == p.lower() for p in d.motion_prompts)


def test_wind_and_sea_advisories_are_not_typhoons():
    # 강풍 (strong wind) and 풍랑 (high seas) have their own advisories: "other" in the research notes.
    assert classify_text("강풍주의보 발효 중, 시설물 관리에 유의하세요") is None
    assert classify_text("동해중부 앞바다 풍랑경보, 선박은 입항 바랍니다") is None
    assert classify_text("High Wind Warning until 6 PM") is None
    assert classify_text("제6호 태풍 북상으로 강풍과 풍랑이 예상됩니다").key == "typhoon"
