"""GRPO (stage 3): the trainer and its config, the reward functions that call the services,
generation on a vLLM server, the run's report and the learning recipe for 2 CPU cores."""
