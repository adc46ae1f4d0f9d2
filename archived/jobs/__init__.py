"""Jobs: the state machine, settings resolution, and the engine that runs them."""
