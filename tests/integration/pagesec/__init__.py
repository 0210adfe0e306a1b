"""The parts of the admin pages' security tests, run in order by test_pages_security.py."""
