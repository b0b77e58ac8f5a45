"""The value over each bar of a trend fits its bar; the exact value stays in
the chart's text for screen readers."""

from core.charts import bar_chart, compact, hbar_chart, svg


def test_large_values_are_shown_compact():
    assert [compact(v, str(v)) for v in (950, 9_999, 12_345, 553_000, 20_552_000)] == [
        "950",
        "9999",
        "12.3k",
        "553k",
        "20.6M",
    ]
    # Rounding carries into the next suffix instead of printing an exponent.
    assert [compact(v, "") for v in (999_500, 999_999, 999_499, 999_600_000)] == [
        "1M",
        "1M",
        "999k",
        "1B",
    ]


def test_a_bar_shows_the_compact_value_centred_and_keeps_the_exact_one():
    chart = bar_chart(
        [("Sep", 20_552_000), ("Oct", 19_513_500)],
        title="Won value",
        fmt=lambda v: f"{v:,}",
    )
    drawn = svg(chart, "won")
    assert 'text-anchor="middle">20.6M</text>' in drawn
    assert "<title>Sep: 20,552,000</title>" in drawn
    assert "Sep: 20,552,000; Oct: 19,513,500" in drawn  # the description
    first = chart["bars"][0]
    assert first.value_x == round(first.x + first.width / 2, 1)


def test_a_chart_writes_all_its_values_one_way():
    def shown(*values):
        chart = bar_chart(
            [(str(i), v) for i, v in enumerate(values)], title="t", fmt="{:,}".format
        )
        return [bar.short for bar in chart["bars"]]

    assert shown(4_000, 15_500, 68_500) == ["4k", "15.5k", "68.5k"]
    assert shown(4_000, 9_999, 950) == ["4,000", "9,999", "950"]


def test_a_funnel_links_each_bar_and_escapes_what_it_shows():
    chart = hbar_chart(
        [("Received <new>", 1200, "/referrals/?reached=1&x=2"), ("Won", 30, "")],
        title="Funnel & co",
        fmt="{:,}".format,
    )
    drawn = svg(chart, "funnel")

    assert '<title id="funnel-title">Funnel &amp; co</title>' in drawn
    assert '<a href="/referrals/?reached=1&amp;x=2"><rect' in drawn
    assert "<title>Received &lt;new&gt;: 1,200</title>" in drawn
    assert drawn.count("<a ") == 1  # Won has no link
    assert 'class="chart-value">30</text>' in drawn


def test_labels_and_values_are_spaced_so_they_never_overlap():
    months = [(f"M{i:02d} ’25", 345_000 + i) for i in range(36)]
    chart = bar_chart(months, title="Won value")
    drawn = str(svg(chart, "won"))
    labels = drawn.count('class="chart-label"')
    values = drawn.count('class="chart-value"')
    # 624 px for 36 bars: about 17 px each, a label "M00 ’25" about 56 px
    assert (chart["label_every"], labels) == (4, 9)
    assert (chart["value_every"], values) == (3, 12)
    # Every value is still in the description, for screen readers.
    assert all(f"M{i:02d} ’25: {345_000 + i}" in chart["desc"] for i in range(36))
    # A few short bars: every label and every value.
    few = bar_chart([("Sep", 5), ("Oct", 7), ("Nov", 9)], title="Received")
    assert (few["label_every"], few["value_every"]) == (1, 1)


def test_a_chart_with_links_is_a_group_whose_links_are_named_by_their_bars():
    # An image's content is presentational: links inside role="img" would be
    # lost to screen readers (axe-core's nested-interactive).
    chart = bar_chart([("Sep", 12, "/referrals/?m=9")], title="Received")
    drawn = str(svg(chart, "received"))

    assert 'role="group" aria-labelledby="received-title"' in drawn
    assert 'aria-describedby="received-desc"' in drawn
    assert 'role="img"' not in drawn
    assert '<a href="/referrals/?m=9"><rect' in drawn
    assert "<title>Sep: 12</title>" in drawn  # the link's name
    # What is drawn is read from the description instead, not twice.
    assert drawn.count("<text ") == drawn.count('<text aria-hidden="true"') == 2
