from django.core.exceptions import ValidationError
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError as StdnumError


def credit_code_problem(value: str) -> tuple[str, str] | None:
    """Why a unified social credit code is invalid, as (中文, English); None when it is valid.

    python-stdnum implements GB 32100-2015, including the check character.
    """
    try:
        uscc.validate(value)
    except InvalidLength:
        return ("统一社会信用代码应为18位", "a unified social credit code has 18 characters")
    except InvalidChecksum:
        return ("统一社会信用代码校验位错误", "the check character of the credit code is wrong")
    except (InvalidFormat, InvalidComponent):
        return ("统一社会信用代码含有非法字符或格式错误", "the credit code has invalid characters")
    except StdnumError:
        return ("统一社会信用代码无效", "the credit code is invalid")
    return None


def normalise_credit_code(value: str) -> str:
    return uscc.compact(value or "")


def validate_credit_code(value: str) -> None:
    problem = credit_code_problem(value)
    if problem:
        raise ValidationError(f"{problem[0]} ({problem[1]})", code="invalid_credit_code")
