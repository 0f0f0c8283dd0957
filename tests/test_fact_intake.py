"""The quick intake path for plain JSON facts must agree with the pydantic Fact model on
every input it accepts; whatever it declines, the model decides."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from ecorules._errors import FactError
from ecorules._fact import FactView, _quick_view, parse_fact

SCALARS = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["provincial", "key", "general", "problem", "mining"]),
    st.integers(-5, 5),
    st.booleans(),
    st.floats(allow_nan=False),
)
DATE_LIKE = st.one_of(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 1, 1)).map(date.isoformat),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 1, 1)),
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(),
    st.sampled_from(["2024-02-30", "2024/09/27", "20240927", "2024-W39-5", "2024-09-27 ", ""]),
    SCALARS,
)
FLAGS = st.one_of(
    st.none(),
    st.lists(st.sampled_from(["suspected_crime", "perfunctory", "x"]), max_size=3),
    st.tuples(st.text(max_size=3)),
    st.sets(st.sampled_from(["a", "b"])),
    st.lists(SCALARS, max_size=2),
    SCALARS,
)
EVENTS = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["transferred", "closed", "rectified"]), DATE_LIKE, max_size=3),
    st.dictionaries(
        SCALARS.filter(lambda v: v is None or isinstance(v, (str, int))), DATE_LIKE, max_size=2
    ),
    st.lists(st.text(max_size=3), max_size=2),
    SCALARS,
)
FACTS = st.fixed_dictionaries(
    {},
    optional={
        "id": SCALARS,
        "kind": SCALARS,
        "source": SCALARS,
        "category": SCALARS,
        "sector": SCALARS,
        "flags": FLAGS,
        "events": EVENTS,
        "attrs": st.one_of(st.just({}), st.dictionaries(st.text(max_size=3), SCALARS, max_size=2)),
        "colour": SCALARS,
    },
)


def _fields(view: FactView) -> tuple[object, ...]:
    return (
        view.id,
        view.kind,
        view.source,
        view.category,
        view.sector,
        view.flags,
        view.events,
        view.attrs,
    )


@settings(max_examples=2000, deadline=None)
@given(data=FACTS)
def test_quick_path_agrees_with_the_model(data: dict) -> None:
    quick = _quick_view(data)
    if quick is None:
        return
    try:
        model = parse_fact(data)
    except FactError as exc:  # pragma: no cover - the failure this test exists to catch
        raise AssertionError(f"quick path accepted what the model refuses: {exc}") from None
    assert _fields(quick) == _fields(FactView.of(model))


def test_quick_path_takes_the_plain_shape_and_declines_the_rest() -> None:
    plain = {
        "id": "A",
        "source": "provincial",
        "category": "key",
        "flags": ["x"],
        "events": {"transferred": "2024-09-27", "closed": date(2024, 10, 8)},
    }
    assert _quick_view(plain) is not None
    for unusual in (
        {**plain, "events": {"transferred": "2024-09-27T09:00:00+08:00"}},
        {**plain, "events": {"transferred": datetime(2024, 9, 27, 9)}},
        {**plain, "attrs": {"owner": "township"}},
        {**plain, "source": 3},
        {**plain, "colour": "red"},
        {**plain, "events": {"transferred": "2024-02-30"}},
    ):
        assert _quick_view(unusual) is None
