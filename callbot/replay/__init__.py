"""QA replay: recorded caller audio through the same CallSession a live call uses."""

from callbot.replay.replay import CallerTurn, ReplayResult, load_caller_audio, replay_call, split_caller_turns

__all__ = ["CallerTurn", "ReplayResult", "load_caller_audio", "replay_call", "split_caller_turns"]
