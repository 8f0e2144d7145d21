"""Money on the finance dashboard: finance's formatters (twincity.finance.presentation), whatever the language's
own grouping (Chinese has none by default)."""

from decimal import Decimal

from django import template

from twincity.finance.presentation import wan as wan_text

register = template.Library()


@register.filter
def wan(amount):
    """17000000 → "1,700 万元"."""
    return wan_text(amount)


@register.filter
def fen(amount):
    """1234567.5 → "1,234,567.50" (the column says 元)."""
    if amount is None or amount == "":
        return "—"
    return f"{Decimal(amount).quantize(Decimal('0.01')):,f}"
