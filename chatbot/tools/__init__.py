"""Tools around the assistant, not on the answer path: evaluation and its reports, the LLM speed bench,
the load test and the hostile-input suite. Each is a `python -m chatbot` command."""
