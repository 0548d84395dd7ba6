"""Licence detection from page text and URLs."""

import pytest

from cinema_dag.scraping.licences import ALL_RIGHTS_RESERVED, detect_licences, most_restrictive


class TestDetectLicences:
    @pytest.mark.parametrize(
        ("text", "urls", "expected"),
        [
            ("본 저작물은 공공누리 제1유형 조건에 따라 이용할 수 있습니다", [], ["KOGL-1"]),
            ("공공누리 제 4 유형: 출처표시+상업적이용금지+변경금지", [], ["KOGL-4"]),
            ("KOGL Type 3", [], ["KOGL-3"]),
            ("", ["/images/common/img_opentype02.png"], ["KOGL-2"]),
            (
                "",
                ["https://www.kogl.or.kr/open/web/images/images_2014/codetype/new_img_opentype04.png"],
                ["KOGL-4"],
            ),
            ("", ["http://www.kogl.or.kr/info/licenseType3.do"], ["KOGL-3"]),
            ("", ["http://www.kogl.or.kr/open/info/license_info/by-nc.do"], ["KOGL-2"]),
            ("", ["https://creativecommons.org/licenses/by-nc-sa/2.0/kr/"], ["CC-BY-NC-SA-2.0"]),
            ("", ["https://creativecommons.org/publicdomain/zero/1.0/"], ["CC0-1.0"]),
            ("Photo: CC BY-SA 4.0", [], ["CC-BY-SA-4.0"]),
            ("(산림청 제공. 재판매 및 DB 금지)", [], [ALL_RIGHTS_RESERVED]),
            ("무단 전재-재배포, AI 학습 및 활용 금지", [], [ALL_RIGHTS_RESERVED]),
            ("홍수 피해 사진", ["/img/a.jpg"], []),
            ("제1유형 아파트 분양", [], []),  # "제1유형" without 공공누리 is not a licence
        ],
    )
    def test_known_marks(self, text, urls, expected):
        assert detect_licences(text, urls) == expected

    def test_several_marks_all_returned(self):
        found = detect_licences("공공누리 제1유형", ["https://creativecommons.org/licenses/by/4.0/"])
        assert found == ["CC-BY-4.0", "KOGL-1"]

    def test_rejects_non_text(self):
        with pytest.raises(TypeError, match="bytes"):
            detect_licences(b"KOGL")


class TestMostRestrictive:
    def test_post_mark_beats_site_footer(self):
        assert most_restrictive(["KOGL-1", "KOGL-4"]) == "KOGL-4"

    def test_reserved_beats_everything(self):
        assert most_restrictive(["KOGL-0", "CC-BY-4.0", ALL_RIGHTS_RESERVED]) == ALL_RIGHTS_RESERVED

    def test_conditions_counted(self):
        assert most_restrictive(["CC-BY-4.0", "CC-BY-SA-4.0"]) == "CC-BY-SA-4.0"
        assert most_restrictive(["CC-BY-SA-4.0", "CC-BY-NC-4.0"]) == "CC-BY-NC-4.0"

    def test_empty(self):
        assert most_restrictive([]) is None
