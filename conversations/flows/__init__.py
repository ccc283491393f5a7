"""The customer dialogues: routing a turn to its flow, booking, managing, series, questions in passing, hand-overs and payments."""
