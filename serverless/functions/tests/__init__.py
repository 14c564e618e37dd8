"""Unit tests of the Canalco Lambda functions (standard library only)."""
