"""The core's shared vocabulary: Request, Task, Reply, Action/Target, the Parser contract, durations and
conversation state. It imports nothing else of opsbot but the config, so every other package can use it."""
