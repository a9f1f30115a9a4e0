"""Which column names probably hold personal data, so imported columns start out masked, not exposed."""

from __future__ import annotations

import re

# Word-ish matches on snake/camel-case names; a false positive costs a grant, a false negative a leak.
_PII = re.compile(
    r"(^|_)(e_?mail|phone|mobile|ssn|social_security|passport|iban|card_number|credit_card|password|"
    r"birth_?date|date_of_birth|dob|first_name|last_name|full_name|street|address|postcode|zip_?code|"
    r"ip_address|national_id|tax_id)($|_)"
)


def looks_sensitive(column: str) -> bool:
    """True when a column name suggests personal data (email, phone, birth date, address...)."""
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", column).lower()
    return bool(_PII.search(snake))
