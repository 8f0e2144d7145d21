"""Django validators of registry fields (the rules themselves live in `validation`)."""

from django.core.exceptions import ValidationError

from twincity.enterprises.validation import credit_code_problem


def validate_credit_code(value: str) -> None:
    problem = credit_code_problem(value)
    if problem:
        raise ValidationError(f"{problem[0]} ({problem[1]})", code="invalid_credit_code")
