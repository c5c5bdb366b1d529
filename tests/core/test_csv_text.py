"""`app.core.csv_text`: UTF-8 and GB18030 files come back exactly; files in other encodings,
or in two at once, are refused with the lines that show it."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.csv_text import EncodingProblem, decode_csv, encoding_named

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红玲芬飞鹏建辉喆旻"
UNITS = ["市农业农村局", "县民政局", "市卫生健康委员会", "县交通运输局", "省财政厅", "县人民医院"]
POSITIONS = ["第一书记", "队长", "队员", "驻村工作队员", "team_member"]
# Traditional spellings, as Big5 (Taiwan, Hong Kong) writes them.
T_SURNAMES = "陳張劉楊黃趙吳周徐孫馬朱胡郭何高林羅鄭梁謝宋唐許韓馮鄧曹彭曾蕭田董袁潘蔣蔡葉"
T_GIVEN = "偉芳娜秀英敏靜麗強磊軍洋勇豔傑娟濤明超蘭霞平剛桂華玉萍紅玲芬飛鵬建輝"
T_UNITS = ["市農業農村局", "縣民政局", "市衛生健康委員會", "縣交通運輸局", "省財政廳", "縣人民醫院"]
T_POSITIONS = ["第一書記", "隊長", "隊員", "駐村工作隊員", "team_member"]
HEADER = "username,full_name,position,unit,village_code,start_date,end_date,password"


def rosters(surnames: str, given_names: str, units: list[str], positions: list[str]):
    row = st.tuples(
        st.sampled_from(surnames),
        st.text(st.sampled_from(given_names), min_size=1, max_size=2),
        st.sampled_from(positions),
        st.sampled_from(units),
    )
    return st.lists(row, min_size=1, max_size=30).map(
        lambda rows: (
            "\r\n".join(
                [HEADER]
                + [
                    f"u{i},{s}{g},{p},{u},430121001001,2025-01-01,,"
                    for i, (s, g, p, u) in enumerate(rows)
                ]
            )
            + "\r\n"
        )
    )


@settings(max_examples=150, deadline=None)
@given(rosters(SURNAMES, GIVEN, UNITS, POSITIONS), st.sampled_from(["gb18030", "utf-8"]))
def test_simplified_chinese_rosters_come_back_exactly(text, encoding):
    decoded = decode_csv(text.encode(encoding))
    assert (decoded.text, decoded.encoding) == (text, encoding)


@settings(max_examples=150, deadline=None)
@given(rosters(T_SURNAMES, T_GIVEN, T_UNITS, T_POSITIONS))
def test_big5_rosters_are_refused(text):
    # Every one of them decodes as GB18030 without an error: only the reading gives it away.
    data = text.encode("big5")
    data.decode("gb18030")
    with pytest.raises(EncodingProblem) as refused:
        decode_csv(data)
    non_ascii = [n for n, line in enumerate(text.split("\n"), 1) if not line.isascii()]
    assert refused.value.lines
    assert set(refused.value.lines) <= set(non_ascii)


def test_the_byte_order_mark_is_dropped():
    assert decode_csv(codecs.BOM_UTF8 + "a,张三\n".encode()).text == "a,张三\n"


def test_one_gbk_line_in_a_utf8_file_is_named():
    data = "h\n张三\n".encode() + "李四\n".encode("gbk") + "王五\n".encode()
    with pytest.raises(EncodingProblem) as refused:
        decode_csv(data)
    assert refused.value.lines == [3]
    assert "mixes encodings" in refused.value.message


def test_one_utf8_line_in_a_gb18030_file_is_named():
    data = "h\n张三\n李四\n".encode("gb18030") + "王五\n".encode()
    with pytest.raises(EncodingProblem) as refused:
        decode_csv(data)
    assert refused.value.lines == [4]


def test_bytes_of_neither_encoding_are_named_by_line():
    data = b"h\nok\n\xff\xfe bad\nok\n\x80 bad\n"
    with pytest.raises(EncodingProblem) as refused:
        decode_csv(data)
    assert refused.value.lines == [3, 5]
    assert refused.value.message.endswith("lines 3, 5")


def test_utf16_is_refused_as_what_it_is():
    with pytest.raises(EncodingProblem, match="UTF-16"):
        decode_csv("h\n张三\n".encode("utf-16"))


def test_a_forced_encoding_decodes_strictly_and_names_the_lines():
    data = "h\n张三\n".encode() + "李四\n".encode("gbk")
    with pytest.raises(EncodingProblem) as refused:
        decode_csv(data, "utf-8")
    assert refused.value.lines == [3]
    assert decode_csv("h,張三\n".encode("gbk"), "GBK").text == "h,張三\n"


@pytest.mark.parametrize("name", ["big5", "shift_jis", "latin-1", "utf-16"])
def test_only_utf8_and_gb18030_may_be_forced(name):
    with pytest.raises(EncodingProblem, match="only UTF-8 or GB18030"):
        encoding_named(name)


def test_long_line_lists_are_cut_short():
    data = b"h\n" + b"\xff\n" * 30
    with pytest.raises(EncodingProblem) as refused:
        decode_csv(data)
    assert len(refused.value.lines) == 30
    assert refused.value.message.endswith(
        "lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21 and 10 more"
    )
