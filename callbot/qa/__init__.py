"""QA: suites of recorded calls replayed against expected outcomes (`callbot test`, docs/qa.md)."""


class QaError(Exception):
    """A suite, baseline or option of `callbot test` the user must fix; `str()` is the message to print."""
