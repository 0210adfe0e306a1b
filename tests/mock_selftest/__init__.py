"""The parts of the mock provider's self-test, run in order by tests/test_mock_provider_selftest.py."""
