"""QA: suites of recorded calls replayed against expected outcomes (`callbot test`, docs/qa.md)."""
