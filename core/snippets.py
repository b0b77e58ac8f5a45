"""A small template language for text that admins write (thank-you emails).

An admin's template runs on every send, with no one watching. So it gets only
what a placeholder text needs: `{{ placeholder }}`, `{% if %}` (with `elif`
and `else`), `{# comments #}` and a few text filters. Tags that reach outside
the text (`include`, `extends`, `url`, `load`, `now`, `debug`, ...) and loops
do not exist here: they are refused when the template is parsed, so at save
time even behind an `{% if %}` that is false.

Without loops a render does work in proportion to the template's length, and
each placeholder's value has a bounded length, so the output is bounded too;
`snippet_check` proves it for a template before it is saved, and
`render_snippet` refuses output over the limit anyway.
"""

from django import template
from django.template import (
    Context,
    Engine,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import FilterExpression, TextNode, Variable, VariableNode
from django.template.defaulttags import IfNode

register = template.Library()
register.tag("if", defaulttags.do_if)
register.tag("comment", defaulttags.comment)

FILTERS = (
    "capfirst",
    "default",
    "default_if_none",
    "lower",
    "title",
    "truncatechars",
    "truncatewords",
    "upper",
)
for _name in FILTERS:
    register.filter(_name, defaultfilters.register.filters[_name])

SNIPPET_HELP = (
    "Use placeholders like {{ prospect_name }}, {% if ... %}…{% else %}…{% endif %} "
    "and the filters " + ", ".join(FILTERS) + "."
)
NOT_ALLOWED_TAG = "“{%% %(tag)s %%}” cannot be used in an email template. "
NOT_ALLOWED_FILTER = "The filter “%(name)s” cannot be used in an email template. "
UNKNOWN_PLACEHOLDER = (
    "{{ %(name)s }} is not a placeholder. The placeholders are: %(known)s."
)
TOO_LONG_OUTPUT = (
    "With long names this template could write %(length)s characters; "
    "the most an email may have is %(limit)s. Use fewer placeholders."
)


class SnippetTooLong(TemplateSyntaxError):
    """A rendered snippet over its limit (a broken template, as far as a send goes)."""


class _SnippetEngine(Engine):
    # Only this module's tags and filters: Django's defaults are not loaded.
    default_builtins = ["core.snippets"]


SNIPPET_ENGINE = _SnippetEngine(autoescape=False, libraries={}, loaders=[])


def render_snippet(source: str, context: dict, *, limit: int | None = None) -> str:
    """Render an admin's template as plain text (never HTML-escaped).

    Raises TemplateSyntaxError if it is broken, SnippetTooLong past `limit`.
    A Context escapes by default, whatever its engine says: this one does not.
    """
    template = SNIPPET_ENGINE.from_string(source)
    text = template.render(Context(context, autoescape=False)).strip()
    if limit is not None and len(text) > limit:
        raise SnippetTooLong(TOO_LONG_OUTPUT % {"length": len(text), "limit": limit})
    return text


def snippet_check(source: str, *, placeholders: dict[str, int], limit: int) -> None:
    """Refuse, with a message for the admin, a template that could fail a send.

    `placeholders` maps each name to the longest value it can have. Raises
    TemplateSyntaxError: a tag that is not allowed, a syntax error, an
    unknown placeholder, or output that could exceed `limit` characters.
    """
    try:
        template = SNIPPET_ENGINE.from_string(source)
    except TemplateSyntaxError as error:
        raise TemplateSyntaxError(_explain(error)) from error
    for name in _names_used(template.nodelist):
        if name not in placeholders:
            known = ", ".join(f"{{{{ {known} }}}}" for known in placeholders)
            raise TemplateSyntaxError(
                UNKNOWN_PLACEHOLDER % {"name": name, "known": known}
            )
    length = _longest_output(template.nodelist, placeholders)
    if length > limit:
        raise TemplateSyntaxError(TOO_LONG_OUTPUT % {"length": length, "limit": limit})


def _explain(error: TemplateSyntaxError) -> str:
    """Django's parse error, said in the terms of this small language."""
    token, message = getattr(error, "token", None), str(error)
    if token is not None and "Invalid block tag" in message and token.contents:
        return NOT_ALLOWED_TAG % {"tag": token.contents.split()[0]} + SNIPPET_HELP
    if message.startswith("Invalid filter: "):
        name = message.removeprefix("Invalid filter: ").strip("'")
        return NOT_ALLOWED_FILTER % {"name": name} + SNIPPET_HELP
    return message


def _names_used(nodelist) -> list[str]:
    """The first name of every variable the template reads, in order."""
    names = []
    for node in nodelist:
        expressions = []
        if isinstance(node, VariableNode):
            expressions.append(node.filter_expression)
        elif isinstance(node, IfNode):
            for condition, body in node.conditions_nodelists:
                expressions += _condition_expressions(condition)
                names += _names_used(body)
        for expression in expressions:
            names += _expression_names(expression)
    return names


def _longest_output(nodelist, placeholders: dict[str, int]) -> int:
    """An upper bound of the rendered length: every branch of every `if`
    counted, each placeholder at its longest, each literal in full."""
    total = 0
    for node in nodelist:
        if isinstance(node, TextNode):
            total += len(node.s)
        elif isinstance(node, VariableNode):
            expression = node.filter_expression
            values = [expression.var] + [
                arg for _, args in expression.filters for _, arg in args
            ]
            total += sum(
                placeholders.get(value.lookups[0], 0)
                if isinstance(value, Variable) and value.lookups
                else len(str(value))
                for value in values
            )
        elif isinstance(node, IfNode):
            total += sum(
                _longest_output(body, placeholders)
                for _, body in node.conditions_nodelists
            )
    return total


def _condition_expressions(condition) -> list[FilterExpression]:
    if condition is None:  # {% else %}
        return []
    if isinstance(getattr(condition, "value", None), FilterExpression):
        return [condition.value]
    found = []
    for side in ("first", "second"):
        if (part := getattr(condition, side, None)) is not None:
            found += _condition_expressions(part)
    return found


def _expression_names(expression: FilterExpression) -> list[str]:
    variables = [expression.var] + [
        arg for _, args in expression.filters for lookup, arg in args if lookup
    ]
    return [
        variable.lookups[0]
        for variable in variables
        if isinstance(variable, Variable) and variable.lookups
    ]
