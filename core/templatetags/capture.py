"""{% capture as name %}...{% endcapture %}: render a fragment once, use it
many times. A board of 150 cards repeats the same move menu and CSRF field
on every card; rendering them once cut most of the board's template time
(bench/RESULTS.md)."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


class CaptureNode(template.Node):
    def __init__(self, nodelist, name):
        self.nodelist, self.name = nodelist, name

    def render(self, context):
        # The fragment was rendered (and escaped) by the template engine.
        context[self.name] = mark_safe(self.nodelist.render(context))
        return ""


@register.tag
def capture(parser, token):
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError(
            "Use {% capture as name %}…{% endcapture %}."
        )
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[2])
