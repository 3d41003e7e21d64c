"""The book's one number style: every number a page shows is written by a function of this module.

As NEJM and JAMA print them: ratios (HR, OR) to two decimals, P to three ("<0.001" below), percentages to
one, a range or confidence interval with an en dash ("2.53 (1.12–5.69)", "54.0 [45.0–63.0]"), or with
" to " where a bound is negative ("−0.24 (−0.63 to 0.15)": a dash beside a minus sign is ambiguous), the true
minus sign U+2212 ("−2.8"), thousands separated by commas ("1,646"). Continuous summaries are
"median [Q1–Q3]" or "mean ± SD". A missing value is an empty string; a string (a redaction marker,
"not estimable") passes through unchanged. CSV downloads keep plain numbers: only what a page displays
is formatted here.
"""

import math
import numbers
import re

import pandas as pd

MINUS = "\u2212"
DASH = "\u2013"
RANGE_TO = " to "  # between the bounds of a range when either is negative
RATIO_DECIMALS = 2
P_DECIMALS = 3
PERCENT_DECIMALS = 1


def _missing(value) -> bool:
    if value is None or isinstance(value, str):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def number(value, decimals: int = 1) -> str:
    """A number with fixed ``decimals``, thousands separated, a true minus sign: '−2.8', '1,646.0'."""
    if isinstance(value, str):
        return value
    if _missing(value):
        return ""
    text = f"{float(value):,.{decimals}f}"
    if text.startswith("-"):
        text = text[1:] if float(text[1:].replace(",", "")) == 0 else MINUS + text[1:]
    return text


def count(value) -> str:
    """A whole number: '1,646' (a string, such as a redaction marker, passes through)."""
    if isinstance(value, str):
        return value
    return "" if _missing(value) else number(round(float(value)), 0)


def p_value(p) -> str:
    """P to three decimals, or '<0.001'; empty when missing."""
    if isinstance(p, str):
        return p
    if _missing(p):
        return ""
    return "<0.001" if p < 0.001 else number(p, P_DECIMALS)


def interval(lower, upper, decimals: int = RATIO_DECIMALS) -> str:
    """A range with an en dash, '1.12–5.69', or with ' to ' where a bound is negative, '−2.8 to 14.3'
    (as NEJM and JAMA print it: '−2.8–14.3' could be read as a subtraction); empty when a limit is missing."""
    if _missing(lower) or _missing(upper):
        return ""
    low, high = number(lower, decimals), number(upper, decimals)
    joint = RANGE_TO if MINUS in low + high else DASH
    return f"{low}{joint}{high}"


def estimate_ci(estimate, lower, upper, decimals: int = RATIO_DECIMALS) -> str:
    """An estimate with its 95% CI: '2.53 (1.12–5.69)'; empty when any part is missing."""
    if any(_missing(v) for v in (estimate, lower, upper)):
        return ""
    return f"{number(estimate, decimals)} ({interval(lower, upper, decimals)})"


def ratio(estimate, lower, upper) -> str:
    """A hazard or odds ratio with its 95% CI, two decimals: '2.53 (1.12–5.69)'."""
    return estimate_ci(estimate, lower, upper, RATIO_DECIMALS)


def percent(value, decimals: int = PERCENT_DECIMALS, sign: bool = False) -> str:
    """A percentage (already times 100) to one decimal: '12.7'; with ``sign``, '12.7%'."""
    text = number(value, decimals)
    return f"{text}%" if sign and text and not isinstance(value, str) else text


def count_percent(n, denominator, size=None) -> str:
    """n (%) of the patients with a value: '1,009 (61.3)'; 'n/denominator (%)' where some values are missing."""
    if not denominator:
        return ""
    pct = percent(100.0 * n / denominator)
    shown = count(n) if size is None or denominator == size else f"{count(n)}/{count(denominator)}"
    return f"{shown} ({pct})"


def median_iqr(median, q1, q3, decimals: int = 1) -> str:
    """'median [Q1–Q3]': '54.0 [45.0–63.0]'."""
    if _missing(median):
        return ""
    return f"{number(median, decimals)} [{interval(q1, q3, decimals)}]"


def mean_sd(mean, sd, decimals: int = 1) -> str:
    """'mean ± SD': '127.3 ± 14.2'."""
    if _missing(mean):
        return ""
    return f"{number(mean, decimals)} ± {number(sd, decimals)}"


def decimals_needed(values, most: int = 3) -> int:
    """The fewest decimals (at most ``most``) that show every value of a column as it is."""
    need = 0
    for v in values:
        if isinstance(v, str) or _missing(v) or not math.isfinite(float(v)):
            continue
        text = f"{abs(float(v)):.{most}f}".rstrip("0")
        need = max(need, len(text.split(".", 1)[1]) if "." in text else 0)
    return need


# A column's header says what it holds: these decide the decimals of a column of floats.
_P = re.compile(r"(^|\W)(P|p|P value|p-value|P for .*)(\W|$)")
_RATIO = re.compile(r"\b(HR|OR|SHR|ratio|Ratio|RR)\b")
_PERCENT = re.compile(r"%|percent|Percent")


def column_formatter(header: str, values):
    """The function that writes one column of floats the book shows: P, ratio, percentage or plain number.

    P columns use :func:`p_value`; ratio columns two decimals; percentage columns one; any other column
    the fewest decimals that show all its values (at most three), the same for every row, so that '12'
    never stands beside '12.7'. Whole-number columns are counts: '1,646'.
    """
    header = str(header)
    if _P.search(header):
        return p_value
    if _RATIO.search(header):
        return lambda v: number(v, RATIO_DECIMALS)
    if _PERCENT.search(header) and not header.lower().startswith("n "):
        return lambda v: percent(v)
    decimals = decimals_needed(values)
    return count if decimals == 0 else (lambda v: number(v, decimals))


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose numeric columns are text in the book's number style (for a page; never for
    a CSV). Text columns keep their text, with a hyphen used as a minus sign before a number made U+2212."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_bool_dtype(values):
            out[column] = values.map(lambda v: "yes" if v else "no")
        elif pd.api.types.is_integer_dtype(values):
            out[column] = values.map(count)
        elif pd.api.types.is_float_dtype(values):
            out[column] = values.map(column_formatter(column, values))
        elif values.dtype == object:
            out[column] = values.map(_cell)
    return out


_NUMERIC = numbers.Real  # Python's and numpy's numbers alike
_HYPHEN_MINUS = re.compile(r"(?<![\w.)\]])-(?=\d)")


def _cell(value):
    """One cell of a text column: a number is written as a number; text gets true minus signs."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, _NUMERIC):
        if _missing(value):
            return ""
        return count(value) if float(value).is_integer() else number(value, decimals_needed([value]))
    if isinstance(value, str):
        return minus_signs(value)
    return "" if _missing(value) else value


def minus_signs(text: str) -> str:
    """Text with each hyphen that stands for a minus sign before a number made U+2212 ('-2.8' → '−2.8');
    hyphens inside words, ranges written '1-2' and ISO dates are left alone."""
    return _HYPHEN_MINUS.sub(MINUS, text)


_PRINTED_RANGE = re.compile(r"\[\s*([\d.,]+)\s*;\s*([\d.,]+)\s*\]")


def printed(text: str) -> str:
    """A cell the thesis prints, in the book's style: '54.0 [45.0;63.0]' → '54.0 [45.0–63.0]' (the numbers as
    printed; only the separator and minus signs change)."""
    if not isinstance(text, str):
        return text
    return minus_signs(_PRINTED_RANGE.sub(lambda m: f"[{m.group(1)}{DASH}{m.group(2)}]", text))


def setting(value) -> str:
    """A parameter's value as a reader reads it: 'yes'/'no', 'not set', 'age 60, egfr 45', '1.8, 2.2'."""
    if value is None or value == "":
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return "; ".join(f"{k} {setting(v)}" for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(setting(v) for v in value) or "none"
    if isinstance(value, float):
        return minus_signs(f"{value:,g}")
    if isinstance(value, int):
        return count(value)
    return str(value)


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def scientific(value, digits: int = 1) -> str:
    """A small or large number in powers of ten, as a paper prints it: '2.3 × 10⁻⁸'; '0' for zero."""
    if isinstance(value, str) or _missing(value):
        return "" if _missing(value) else value
    if value == 0:
        return "0"
    mantissa, exponent = f"{float(value):.{digits}e}".split("e")
    return f"{minus_signs(mantissa)} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"
