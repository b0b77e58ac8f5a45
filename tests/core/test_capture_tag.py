import pytest
from django.template import Context, Template, TemplateSyntaxError


def test_a_captured_fragment_renders_once_and_is_used_many_times():
    calls = []

    def name():
        calls.append(1)
        return "Tom & <Jerry>"

    template = Template(
        "{% load capture %}{% capture as menu %}<b>{{ name }}</b>{% endcapture %}"
        "[{{ menu }}][{{ menu }}]"
    )
    html = template.render(Context({"name": name}))
    assert html == "[<b>Tom &amp; &lt;Jerry&gt;</b>][<b>Tom &amp; &lt;Jerry&gt;</b>]"
    assert len(calls) == 1  # escaped once, by the engine; not twice


def test_it_says_how_to_write_it():
    with pytest.raises(TemplateSyntaxError, match="capture as name"):
        Template("{% load capture %}{% capture menu %}x{% endcapture %}")
