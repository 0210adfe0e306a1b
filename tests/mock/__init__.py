"""The mock AI provider of hub's tests (OpenAI, Azure OpenAI, Anthropic, Gemini); run it as
tests/mock_provider.py."""
