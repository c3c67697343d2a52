"""Registers: a good one gives attendees; a bad one lists every problem by row and makes nothing."""

from __future__ import annotations

import pytest

from surveys.domain.registers import RegisterInvalid, parse_register
from surveys.settings import DEFAULT_AGENCIES, DEFAULT_ROLES


def parse(text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return parse_register(data, "reg.csv", roles=DEFAULT_ROLES, agencies=DEFAULT_AGENCIES)


def problems(text: str | bytes) -> list[str]:
    with pytest.raises(RegisterInvalid) as caught:
        parse(text)
    return [str(p) for p in caught.value.problems]


def test_roles_and_agencies_match_case_insensitively_and_names_stay_out_of_stored_fields():
    attendees = parse("Name,E-mail,Role,Agency,Level\nAnn Lee,ann@x.org,SOCIAL  worker,Children's Services,3\n")
    [ann] = attendees
    assert (ann.role, ann.agency, ann.level) == ("social worker", "children's services", 3)
    assert ann.echo == {"name": "Ann Lee", "e-mail": "ann@x.org"}


def test_excel_semicolon_csv_with_a_byte_order_mark_is_read():
    attendees = parse("\ufeffname;role;agency\nAnn;teacher;education\n".encode())
    assert [a.role for a in attendees] == ["teacher"]


def test_every_bad_row_is_reported_with_its_row_number():
    found = problems(
        "name,email,role,agency,level\n"
        "Ann,ann@x.org,teacher,education,2\n"
        "Bob,bob@x.org,astronaut,education,\n"
        "Cat,cat@x.org,police,space agency,7\n"
        "Ann again,ANN@x.org,teacher,education,\n"
    )
    assert found == [
        "row 3: unknown role 'astronaut'; use one of: " + ", ".join(DEFAULT_ROLES),
        "row 4: unknown agency 'space agency'; use one of: " + ", ".join(DEFAULT_AGENCIES),
        "row 4: the level is 1 (infrequent contact) to 6 (strategic managers), not '7'",
        "row 5: duplicate of row 2",
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "the file is empty"),
        ("name,email\nAnn,a@x\n", "row 1: missing column(s) role, agency; the header has name, email"),
        ("role,agency\n\n", "the register has a header but no attendees"),
        ("role,agency\nteacher,education,extra\n", "row 2: more cells than the header has columns"),
    ],
)
def test_a_malformed_register_says_what_is_wrong(content, expected):
    assert problems(content) == [expected]


def test_a_register_that_is_not_utf8_is_refused_with_a_hint():
    [message] = problems("name,role,agency\nJosé,teacher,education\n".encode("latin-1"))
    assert "not UTF-8" in message and "CSV UTF-8" in message


def test_a_register_may_give_each_attendee_a_language_and_names_a_wrong_one(tmp_path) -> None:
    from surveys.domain.registers import RegisterInvalid, read_register

    good = tmp_path / "good.csv"
    good.write_text("name,role,agency,language\nA,teacher,education,cy\nB,teacher,education,\n")
    first, second = read_register(good, roles=("teacher",), agencies=("education",))
    assert (first.language, second.language) == ("cy", None)
    bad = tmp_path / "bad.csv"
    bad.write_text("name,role,agency,language\nA,teacher,education,fr\n")
    try:
        read_register(bad, roles=("teacher",), agencies=("education",))
    except RegisterInvalid as exc:
        assert "row 2" in str(exc) and "language" in str(exc) and "'fr'" in str(exc)
    else:
        raise AssertionError("a register with language 'fr' was accepted")
