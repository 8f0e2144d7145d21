"""Money on the risk-pool pages: yuan to the fen with thousands separators (finance's one formatter, whatever
the language's own grouping)."""

from django import template

from twincity.finance.presentation import yuan as yuan_text

register = template.Library()


@register.filter
def yuan(amount):
    """1234567.89 → "1,234,567.89 元"."""
    return yuan_text(amount)
